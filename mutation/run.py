"""Mutation testing of the core modules with mutmut, a score per module, and a gate.

    python mutation/run.py                    # every core module (make mutation)
    python mutation/run.py --changed          # the functions a change touched in them (make mutation-changed)
    python mutation/run.py --module invoices/diff.py

A mutant is a small deliberate mistake in one function (a comparison flipped, a number moved
by one, a call dropped, ...); the module's tests must fail on it. Each core module names the
tests that hold it in place (CORE below); mutmut runs them once to learn which test reaches
which function, then runs, for each mutant, only the tests that reach its function, in a
process forked from a warmed-up one. It runs on SQLite, and the test database is migrated
once and copied into each mutant's process (tests/mutation_db.py).

The score of a module is the share of its mutants that a test killed (a timeout counts as
killed: the mistake made a test hang). The run fails when a module scores under --min-score.
Survivors are printed with their diff; those known to be equivalent or harmless are listed,
with the reason, in mutation/survivors.md, and marked as such here.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SURVIVORS = ROOT / "mutation" / "survivors.md"
RESULTS = ROOT / "var" / "mutation"

# Each core module and the tests that hold it in place. A module's mutants run only the
# tests, among these, that reach the mutated function.
CORE: dict[str, list[str]] = {
    "invoices/arithmetic.py": ["tests/documents/test_arithmetic.py", "tests/documents/test_sandbox_totals.py"],
    "invoices/diff.py": ["tests/documents/test_diff.py"],
    "invoices/rules.py": ["tests/documents/test_rules.py"],
    "approvals/services/push.py": ["tests/approvals/test_push.py", "tests/approvals/test_push_guarantees.py",
                                   "tests/approvals/test_push_backoff.py", "tests/approvals/test_push_outcomes.py"],
    "approvals/services/push_writes.py": ["tests/approvals/test_push.py",
                                          "tests/approvals/test_push_guarantees.py"],
    "approvals/routing.py": ["tests/approvals/test_routing.py"],
    "approvals/services/decisions.py": ["tests/approvals/test_decide.py"],
    "audit/chain.py": ["tests/audit/test_integrity.py", "tests/audit/test_evidence.py",
                       "tests/audit/test_hash_format.py"],
    "findings/detectors/__init__.py": ["tests/findings/test_detectors.py", "tests/findings/test_detector_drafts.py"],
    "findings/detectors/base.py": ["tests/findings/test_detectors.py", "tests/findings/test_detector_drafts.py"],
    "findings/detectors/invoices.py": ["tests/findings/test_detectors.py", "tests/findings/test_detector_drafts.py"],
    "findings/detectors/lines.py": ["tests/findings/test_detectors.py", "tests/findings/test_detector_drafts.py"],
    "findings/detectors/prices.py": ["tests/findings/test_detectors.py", "tests/findings/test_detector_drafts.py"],
}

# Services a normal test run may reach; a mutation run uses none (SQLite, filesystem broker).
UNSET = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "ALEGRA_RATE_LIMIT_STORE")

KILLED = {"killed", "timeout", "caught by type check"}


def git(*args: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def change_base(requested: str | None) -> str | None:
    """Where the change starts: the merge base with main; on main itself, its last commit's parent."""
    if requested:
        return git("rev-parse", "--verify", requested + "^{commit}")
    head = git("rev-parse", "HEAD")
    for ref in ("origin/main", "main"):
        if git("rev-parse", "--verify", "--quiet", ref) is None:
            continue
        base = git("merge-base", "HEAD", ref)
        if base and base != head:
            return base
    return git("rev-parse", "--verify", "--quiet", "HEAD^1")


def changed_modules(base: str) -> list[str]:
    """The core modules whose source differs from `base` (work tree included)."""
    changed = set((git("diff", "--name-only", base, "--") or "").splitlines())
    changed |= set((git("ls-files", "--others", "--exclude-standard") or "").splitlines())
    return [module for module in CORE if module in changed]


def changed_functions(base: str, module: str) -> list[str]:
    """The functions and methods of `module` (named as in the report) with a line changed since `base`."""
    import ast

    lines: set[int] = set()
    for line in (git("diff", "-U0", base, "--", module) or "").splitlines():
        hunk = re.match(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
        if hunk:
            start, count = int(hunk[1]), int(hunk[2] if hunk[2] is not None else 1)
            lines.update(range(start, start + max(count, 1)))
    if not (ROOT / module).exists():
        return []
    if not git("ls-files", "--error-unmatch", module):  # a new file: all of it is the change
        lines = set(range(1, len((ROOT / module).read_text().splitlines()) + 1))
    found = []
    tree = ast.parse((ROOT / module).read_text())
    for node in tree.body:
        members = [(f"{node.name}.", child) for child in node.body] if isinstance(node, ast.ClassDef) else [("", node)]
        for prefix, function in members:
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
                if lines & set(range(first, (function.end_lineno or first) + 1)):
                    found.append(prefix + function.name)
    return found


def configure(module: str) -> None:
    from mutmut import configuration

    os.chdir(ROOT)
    cfg = configuration._load_config()
    cfg.only_mutate = [module]
    cfg.pytest_add_cli_args_test_selection = [test for test in CORE[module] if (ROOT / test).exists()]
    configuration._config = cfg


def generate(module: str, jobs: int) -> dict[str, tuple[str, str, str]]:
    """The module's mutants, made the way mutmut's run makes them: name → (function, before, after)."""
    from mutmut.__main__ import create_mutants
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    (ROOT / "mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(jobs)
    meta = json.loads((ROOT / "mutants" / (module + ".meta")).read_text())
    return {name: mutant_change(name, module) for name in meta["exit_code_by_key"]}


def mutate(module: str, jobs: int, retest: bool = False, rerun_listed: bool = False,
           functions: list[str] | None = None) -> None:
    """One module, in this process: mutmut's run, then its results saved for the report.

    `retest`: only the mutants the last run of this module left alive, against the tests as
    they are now (mutants/ and its statistics are kept; new tests are found and measured).
    The survivors listed in survivors.md are not run again (they are counted as survivors)
    unless `rerun_listed`. `functions`: only the mutants of these functions are made to count.
    """
    for name in UNSET:
        os.environ.pop(name, None)
    os.environ["ENMIENDA_MUTATION_RUN"] = "1"
    names: list[str] = []
    kept = RESULTS / (slug(module) + ".mutants")  # this module's mutated copy, for a later retest
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if retest:
        previous = json.loads((RESULTS / (slug(module) + ".json")).read_text())["mutants"]
        names = [m["name"] for m in previous if m["status"] not in KILLED]
        if not names:
            return
        if kept.exists():  # else the mutants are made again, the same ones (same source, same mutmut)
            shutil.move(kept, ROOT / "mutants")
    configure(module)
    from mutmut.__main__ import _run

    only = None
    if functions is not None or not rerun_listed:
        changes, listed = generate(module, jobs), explained()
        if functions is not None:
            only = {name for name, change in changes.items() if change[0] in functions}
            names = [name for name in (names or changes) if name in only]
            if not names:
                save(module, keep=retest, only=only)
                return
        if not rerun_listed:
            names = [name for name in (names or changes) if (module, *changes[name]) not in listed]
    if names or (rerun_listed and only is None):
        _run(names, jobs)
    save(module, keep=retest, only=only)
    shutil.rmtree(kept, ignore_errors=True)
    shutil.move(ROOT / "mutants", kept)


def run(modules: list[str], jobs: int, retest: bool = False, rerun_listed: bool = False,
        functions: dict[str, list[str]] | None = None) -> list[str]:
    """Each module in a process of its own (mutmut keeps its state per process); the ones that broke."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    lock = open(RESULTS / ".lock", "w")
    try:  # one run per work tree: they share mutants/
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("mutation: another run is using this work tree's mutants/") from None
    broken = []
    for module in modules:
        log = RESULTS / (slug(module) + ".log")
        if not retest:
            (RESULTS / (slug(module) + ".json")).unlink(missing_ok=True)
        started, cpu = time.monotonic(), os.times()
        with open(log, "w") as out:
            code = subprocess.call([sys.executable, __file__, "--one", module, "--jobs", str(jobs)]
                                   + (["--retest"] if retest else []) + (["--rerun-listed"] if rerun_listed else [])
                                   + (["--functions", ",".join(functions[module])] if functions else []),
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        cpu_seconds = sum(os.times()[2:4]) - sum(cpu[2:4])  # the module's processes, all of them
        if code != 0 or not (RESULTS / (slug(module) + ".json")).exists():
            broken.append(module)
            tail = log.read_text(errors="replace").replace("\r", "\n").splitlines()[-25:]
            print(f"mutation: {module} did not run to the end ({seconds:.0f} s); the end of {log}:")
            print("\n".join("    " + line for line in tail))
        else:
            print(f"mutation: {module} done in {seconds:.0f} s ({cpu_seconds:.0f} s of CPU)", flush=True)
    return broken


# --- the results and the report --------------------------------------------------------------


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def mutant_change(name: str, module: str) -> tuple[str, str, str]:
    """(function, line before, line after) of a mutant: a key that survives renumbering."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    function, class_name = orig_function_and_class_names_from_key(name)
    diff = get_diff_for_mutant(name, path=module)
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    qualified = f"{class_name}.{function}" if class_name else function
    return qualified, " ".join(removed), " ".join(added)


def save(module: str, keep: bool = False, only: set[str] | None = None) -> None:
    from mutmut.stats import status_by_exit_code

    meta = json.loads((ROOT / "mutants" / (module + ".meta")).read_text())
    path = RESULTS / (slug(module) + ".json")
    before = {m["name"]: m["status"] for m in json.loads(path.read_text())["mutants"]} if keep else {}
    if keep and only is None:
        only = set(before)  # a retest counts the mutants the run it follows counted
    mutants = []
    for name, code in sorted(meta["exit_code_by_key"].items()):
        if only is not None and name not in only:
            continue
        status = status_by_exit_code[code]
        if before.get(name) in KILLED:
            status = before[name]
        elif status == "not checked":
            status = "survived"  # a listed survivor, not run again
        entry = {"name": name, "status": status}
        if status not in KILLED:
            entry["function"], entry["before"], entry["after"] = mutant_change(name, module)
        mutants.append(entry)
    (RESULTS / (slug(module) + ".json")).write_text(json.dumps({"module": module, "mutants": mutants}, indent=1))


def explained() -> set[tuple[str, str, str, str]]:
    """(module, function, before, after) of each survivor survivors.md accounts for."""
    keys = set()
    # Cells split on the unescaped bars (code writes its own as "\|"), so a reason may hold
    # backticks of its own without swallowing the columns before it.
    quoted = re.compile(r"^`(.*)`$")
    for line in SURVIVORS.read_text().splitlines() if SURVIVORS.exists() else ():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)]
        if len(cells) < 6 or cells[0]:
            continue
        found = [quoted.match(cell) for cell in cells[1:5]]
        if all(found):
            keys.add(tuple(match.group(1).replace("\\|", "|") for match in found))
    return keys


def report(modules: list[str], min_score: float) -> int:
    known = explained()
    failing, unexplained, details = [], 0, []
    lines = [f"{'module':36} {'mutants':>7} {'killed':>6} {'survived':>8} {'no test':>7} {'score':>6}"]
    for module in modules:
        path = RESULTS / (slug(module) + ".json")
        if not path.exists():
            lines.append(f"{module:36} {'(no result)':>38}")
            failing.append(module)
            continue
        mutants = json.loads(path.read_text())["mutants"]
        counts = Counter(m["status"] for m in mutants)
        considered = sum(n for status, n in counts.items() if status not in {"skipped", "not checked"})
        killed = sum(counts[s] for s in KILLED)
        score = 100.0 * killed / considered if considered else 100.0
        lines.append(f"{module:36} {considered:7} {killed:6} {counts['survived']:8} {counts['no tests']:7} "
                     f"{score:5.1f}%")
        if score < min_score:
            failing.append(module)
        for m in mutants:
            if m["status"] in KILLED:
                continue
            accounted = (module, m["function"], m["before"], m["after"]) in known
            unexplained += not accounted
            details.append(f"  [{m['status']}{'' if accounted else ', not listed'}] {module} {m['function']}"
                           f" ({m['name'].rpartition('__mutmut_')[2]})\n      - {m['before']}\n      + {m['after']}")
    if details:
        print(f"\nMutants not killed ({unexplained} not listed in {SURVIVORS.relative_to(ROOT)}):")
        print("\n".join(details))
    print()
    print("\n".join(lines))
    if failing:
        print(f"\nUnder the target of {min_score:.0f}% killed: {', '.join(failing)}")
        return 1
    print(f"\nEvery module at or above {min_score:.0f}% killed.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changed", action="store_true", help="only the core modules a change touches")
    parser.add_argument("--base", help="the commit the change starts from (default: the merge base with main)")
    parser.add_argument("--module", action="append", default=[], help="a core module (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--min-score", type=float, default=90.0, help="the per-module target, in percent")
    parser.add_argument("--retest", action="store_true",
                        help="only the mutants the last run left alive (after adding tests)")
    parser.add_argument("--rerun-listed", action="store_true", help="run the survivors survivors.md lists too")
    parser.add_argument("--whole-modules", action="store_true",
                        help="with --changed: every function of a changed module, not only the changed ones")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--functions", help=argparse.SUPPRESS)
    parser.add_argument("--report", action="store_true", help="only print the report of the last run")
    args = parser.parse_args()

    unknown = [m for m in args.module if m not in CORE]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (see CORE in {Path(__file__).name})")
    modules = args.module or list(CORE)
    functions: dict[str, list[str]] | None = None
    if args.changed:
        base = change_base(args.base or os.environ.get("MUTATION_BASE"))
        if base is None:
            print("mutation: no commit to compare with; nothing to mutate")
            return 0
        modules = [m for m in changed_modules(base) if m in modules]
        print(f"mutation: changes since {base[:12]} touch {len(modules)} core module(s)"
              + (": " + ", ".join(modules) if modules else ""))
        if not args.whole_modules:
            # What a change can weaken is what it touched: the mutants of its changed functions.
            functions = {module: changed_functions(base, module) for module in modules}
            for module in modules:
                print(f"mutation: {module}: " + (", ".join(functions[module]) or "no function changed"))
            modules = [module for module in modules if functions[module]]
        if not modules:
            return 0
    if args.one:
        mutate(args.one, args.jobs, args.retest, args.rerun_listed,
               args.functions.split(",") if args.functions is not None else None)
        return 0
    broken = [] if args.report else run(modules, args.jobs, args.retest, args.rerun_listed, functions)
    return report(modules, args.min_score) or (1 if broken else 0)


if __name__ == "__main__":
    sys.exit(main())
