"""The shape of the code that a reader relies on: ``app/kit`` is a leaf that the domains use,
importing a module changes nothing outside it, and the tests of a module are found by its
path."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from app.models import metadata
from app.records import COLLECTIONS
from tests import ROOT

KIT = ROOT / "app" / "kit"
WHOLE = {"test_hostile.py", "test_layout.py", "test_quickstart.py", "test_statement_budgets.py"}
"""Tests of the whole service, at the top of tests/, that no one module owns."""
BESIDE_APP = {"clients", "deploy", "migrations", "openapi"}
"""Folders of tests for what lies beside ``app/`` in the repository."""


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


def _tested(folder: Path, test: Path) -> bool:
    """Whether ``test`` (``test_<module>.py`` or ``test_<module>_<aspect>.py``) names a
    module, or another file, of ``folder``."""
    if not folder.is_dir():
        return False
    words = test.stem.removeprefix("test_").split("_")
    names = {path.stem for path in folder.iterdir()}
    return any("_".join(words[:n]) in names for n in range(1, len(words) + 1))


def test_the_tests_mirror_the_app():
    """``tests/<pkg>/test_<module>.py`` tests ``app/<pkg>/<module>.py``, and
    ``tests/test_<module>.py`` a module at the top of ``app/``: a test is found by the path of
    what it tests."""
    tests = ROOT / "tests"
    astray = [
        str(test.relative_to(tests))
        for test in tests.rglob("test_*.py")
        if not (
            test.name in WHOLE
            if test.parent == tests
            else test.parent.parent == tests and test.parent.name in BESIDE_APP
        )
        and not _tested(ROOT / "app" / test.parent.relative_to(tests), test)
    ]
    assert astray == []


def test_each_record_type_is_declared_once_in_its_domain():
    """The five record types are declared each in its domain's ``collection`` module and
    listed in ``app/records.py`` alone; every table that keeps its records' answers is one of
    them, and no other module declares or lists them (as three registries once did)."""
    assert {collection.table.__table__ for collection in COLLECTIONS} == {
        table for table in metadata.sorted_tables if "record_json" in table.c
    }
    for collection in COLLECTIONS:
        module = importlib.import_module(f"app.{collection.name}.collection")
        assert module.COLLECTION is collection
    declaring = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Collection"
    }
    assert declaring == {f"app/{collection.name}/collection.py" for collection in COLLECTIONS}
