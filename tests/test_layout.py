"""The shape of the code that a reader relies on: ``app/kit`` is a leaf that the domains use,
and importing a module changes nothing outside it."""

import ast
import subprocess
import sys
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


def test_the_session_events_are_installed_by_the_app_not_by_an_import(tmp_path):
    """Importing every module leaves SQLAlchemy's sessions as they are; making the app (or
    running ``demarche seed``) installs the events that write the change feed."""
    script = """
from sqlalchemy import event
from sqlmodel import Session
import sys
import app.cli, app.db, app.main, app.workers
from app.changes.service import write_pending
from app.settings import Settings
print(event.contains(Session, "before_commit", write_pending))
for _ in range(2):
    app.main.create_app(Settings(database_url="sqlite:///" + sys.argv[1]))
    print(event.contains(Session, "before_commit", write_pending))
"""
    ran = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "app.db")], capture_output=True, text=True, check=True
    )
    assert ran.stdout.split() == ["False", "True", "True"]
