"""The portal reaches the sandbox only over HTTP: no portal module imports it."""

import ast
from pathlib import Path

from django.conf import settings

PORTAL_APPS = ("portal", "invoices", "approvals", "findings", "audit")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_portal_module_imports_the_sandbox():
    base = Path(settings.BASE_DIR)
    offenders = []
    for app in PORTAL_APPS:
        for path in (base / app).rglob("*.py"):
            if any(name.split(".")[0] == "alegra_sandbox" for name in imported_modules(path)):
                offenders.append(str(path.relative_to(base)))
    assert offenders == []


def test_the_sandbox_does_not_import_portal_apps():
    base = Path(settings.BASE_DIR) / "alegra_sandbox"
    offenders = [str(p) for p in base.rglob("*.py")
                 if any(n.split(".")[0] in {"invoices", "approvals", "findings", "audit"} for n in imported_modules(p))]
    assert offenders == []


def _module_graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports (relative imports resolved)."""
    root = Path(settings.BASE_DIR) / package
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        here = list(parts[:-1])  # the package a relative import starts from
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[:len(here) - (node.level - 1)] if node.level else []
                target = ".".join(base + [node.module]) if node.module else ".".join(base)
                targets.add(target)
                targets.update(f"{target}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[module] = targets
    return {module: {t for t in targets if t in graph and t != module} for module, targets in graph.items()}


def test_the_sandbox_services_import_each_other_without_cycles():
    graph = _module_graph("alegra_sandbox")
    cycles = []

    def visit(module, path):
        for target in graph[module]:
            if target in path:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in done:
                visit(target, path + [target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    # A package's __init__ re-exporting its modules is not a cycle between them.
    assert [c for c in cycles if not c.startswith("alegra_sandbox.services ->")] == []
