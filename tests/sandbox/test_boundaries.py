"""The portal reaches the sandbox only over HTTP: no portal module imports it."""

import ast
from pathlib import Path

from django.conf import settings

PORTAL_APPS = ("portal", "invoices", "approvals")


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
                 if any(n.split(".")[0] in {"invoices", "approvals"} for n in imported_modules(p))]
    assert offenders == []
