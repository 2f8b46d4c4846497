"""The command line speaks of its own options: `--help` lists the values an option takes, and a
refusal names the option (`--format`, `--filter NAME=VALUE`), never the HTTP query behind it."""

from tests.conftest import drop_database, fresh_database
from tests.ingest.test_cli import demarche

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def refusal(result) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    for http in ("422", "400 ", "query.", "Validation error"):
        assert http not in result.stderr, result.stderr
    return result.stderr


def test_help_lists_the_values_options_take(database_url):
    export = demarche(database_url, "export", "--help", **WIDE)
    assert export.returncode == 0, export.stderr
    assert "ndjson|csv|geojson" in export.stdout
    assert "actors|sources|incidents|exercises|channels" in export.stdout
    imported = demarche(database_url, "import", "--help", **WIDE)
    assert "actor|source|incident|exercise|channel|channel_status" in imported.stdout


def test_a_bad_format_or_collection_is_named_with_the_accepted_values(client, database_url):
    stderr = refusal(demarche(database_url, "export", "incidents", "--format", "xml", **WIDE))
    assert "--format" in stderr and "'ndjson', 'csv', 'geojson'" in stderr
    stderr = refusal(demarche(database_url, "export", "treaties", **WIDE))
    assert "'actors', 'sources', 'incidents', 'exercises', 'channels'" in stderr
    stderr = refusal(demarche(database_url, "export", "actors", "--format", "geojson", **WIDE))
    assert "--format geojson" in stderr and "--format ndjson" in stderr and "--format csv" in stderr


def test_a_bad_filter_is_named_as_the_filter_given(client, database_url):
    stderr = refusal(
        demarche(database_url, "export", "incidents", "--filter", "kind=expulsion", "--filter", "kind=bogus", **WIDE)
    )
    assert "--filter kind=bogus" in stderr and "'expulsion'" in stderr and "'mission_closure'" in stderr
    stderr = refusal(demarche(database_url, "export", "incidents", "--filter", "from=yesterday", **WIDE))
    assert "--filter from=yesterday" in stderr and "YYYY-MM-DD" in stderr


def test_an_unmigrated_database_says_to_run_migrate(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_cli_unmigrated")
    try:
        for command in (("export", "incidents"), ("keys", "list"), ("seed",)):
            stderr = refusal(demarche(url, *command, **WIDE))
            assert "run `demarche migrate`" in stderr, (command, stderr)
    finally:
        drop_database(url)
