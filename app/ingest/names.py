"""The names ``demarche import`` offers as choices, with nothing to import, so that the
command line lists them without loading the models and the converters (see :mod:`app.cli`):
the record types an import line may name, in the order a careful file lists them, and the
event data sets a file may come from. :data:`app.records.BY_TYPE` (with ``channel_status``) and
:data:`app.ingest.converters.READERS` hold one entry for each (tests/ingest/test_cli.py)."""

TYPES = ("actor", "source", "incident", "exercise", "channel", "channel_status")
FORMATS = ("gdelt", "icews", "acled", "plover")
