"""The suite. Its folders mirror the code: ``tests/<pkg>/test_<module>.py`` tests
``app/<pkg>/<module>.py``, ``tests/test_<module>.py`` a top-level module of ``app``, and
``tests/migrations/``, ``tests/deploy/``, ``tests/clients/``, ``tests/openapi/`` what lies in
those folders; ``test_<module>_<aspect>.py`` where several files test one module."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root."""
FIXTURES = ROOT / "tests" / "fixtures"
"""The files the tests read (tests/fixtures/)."""
