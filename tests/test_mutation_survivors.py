"""The mutation gate reads mutation/survivors.md: every row it holds must count as listed."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _runner():
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "mutation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_row_whose_reason_ends_in_code_is_read_and_escaped_bars_stay_in_the_code(tmp_path):
    runner = _runner()
    table = tmp_path / "survivors.md"
    table.write_text(
        "| module | function | before | after | why |\n| --- | --- | --- | --- | --- |\n"
        "| `a.py` | `f` | `x = y or z` | `x = y and z` | equivalent: both read `fields` |\n"
        "| `a.py` | `g` | `return a \\| b` | `return a & b` | harmless: see `g` |\n")
    runner.SURVIVORS = table
    assert runner.explained() == {("a.py", "f", "x = y or z", "x = y and z"),
                                  ("a.py", "g", "return a | b", "return a & b")}


def test_every_row_of_the_projects_table_is_read():
    rows = [line for line in (ROOT / "mutation" / "survivors.md").read_text().splitlines() if line.startswith("| `")]
    assert len(_runner().explained()) == len(rows)
