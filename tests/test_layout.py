"""The shape of the code that a reader relies on: ``app/kit`` is a leaf that the domains use."""

import ast
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent / "app" / "kit"


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_kit_imports_nothing_of_the_app_outside_kit():
    outside = {
        f"{path.name}: {name}"
        for path in KIT.glob("*.py")
        for name in imported(path)
        if (name == "app" or name.startswith("app.")) and not name.startswith("app.kit")
    }
    assert outside == set()
