"""The architecture as a rule: packages import downwards only.

    fileio < frontend < local.data < local.report, local.runtime < local.decode < zh_ssl_asr

A module may import its own package and the packages below it (local.report and
local.runtime do not import each other). Every import counts, also those inside
functions. The modules directly in local/ keep user commands under their first
names and may forward to any package."""

import ast
from pathlib import Path

from conftest import ROOT

LAYERS = {
    "fileio": {"fileio"},
    "frontend": {"fileio", "frontend"},
    "local.data": {"fileio", "local.data"},
    "local.report": {"fileio", "local.data", "local.report"},
    "local.runtime": {"fileio", "frontend", "local.data", "local.runtime"},
    "local.decode": {"fileio", "frontend", "local.data", "local.runtime", "local.decode"},
    "zh_ssl_asr": {
        "fileio",
        "frontend",
        "local.data",
        "local.runtime",
        "local.decode",
        "zh_ssl_asr",
    },
}
PROJECT = ("fileio", "frontend", "local", "zh_ssl_asr")


def package_of(module):
    """The layer a dotted module name belongs to (None: not one of the project's)."""
    parts = module.split(".")
    if parts[0] not in PROJECT:
        return None
    if parts[0] == "local":
        return ".".join(parts[:2]) if len(parts) > 1 else "local"
    return parts[0]


def imported_modules(path):
    """Every module a file imports (absolute names), wherever the import is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def test_packages_import_downwards_only():
    checked, wrong = 0, []
    for layer, allowed in LAYERS.items():
        folder = ROOT / layer.replace(".", "/")
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            checked += 1
            for module in imported_modules(path):
                target = package_of(module)
                if target is None or target == "local":  # `from local import data`: below
                    continue
                if target not in allowed and target in LAYERS:
                    wrong.append(f"{path.relative_to(ROOT)} imports {module} ({target})")
    assert checked > 30
    assert wrong == []


def test_recipe_scripts_use_the_packages_not_each_other():
    for path in sorted(ROOT.glob("egs2/*/asr1/local/*.py")):
        if path.is_symlink():  # the mini recipe's link to the Aishell preparation
            assert path.resolve().parent == ROOT / "egs2/aishell/asr1/local"
            continue
        text = path.read_text(encoding="utf-8")
        assert "egs2/" not in text.replace("egs2/<", ""), f"{path}: reaches into another recipe"
    for path in sorted(ROOT.glob("egs2/*/asr1/local/data.sh")):
        text = path.read_text(encoding="utf-8")
        assert "egs2/" not in text, f"{path}: reaches into another recipe"


def test_every_package_says_what_it_owns_and_may_import():
    for layer in LAYERS:
        init = ROOT / layer.replace(".", "/") / "__init__.py"
        if not init.exists():
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and ("import" in doc.lower()), f"{init}: no docstring saying what it imports"


def test_frontend_imports_nothing_from_local():
    for path in sorted((ROOT / "frontend").rglob("*.py")):
        assert not any(
            package_of(m) and package_of(m).startswith("local") for m in imported_modules(path)
        ), path
    assert Path(ROOT / "fileio").is_dir()
