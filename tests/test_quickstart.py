"""The README's quickstart runs as written: ``make run`` (its recipe: migrate, seed, serve) on a
new SQLite database, then the quickstart's shell block and the API examples line by line in
one bash session, as a user pastes them into a second shell. Every line must succeed, and
every request a line makes must answer 2xx (``curl`` fails on any other status here)."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import ROOT
from tests.live import free_port, serve

README = ROOT / "README.md"
RUNTIME_STAMP = ".venv/.installed-runtime"
"""Where ``make run`` notes that .venv holds the runtime dependencies (see the Makefile)."""
CURL_FAILS = 'curl() { command curl --fail-with-body --show-error "$@"; }'
"""The session's ``curl``: as written, but failing (exit 22) on an answer of 400 or more."""
STATUS = "__line_status__"


def sections(text: str) -> dict[str, str]:
    """The README's ``## `` sections by title."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def shell_blocks(section: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    """The block's commands, one per logical line (continuation lines joined), comment
    lines left out."""
    found, pending = [], ""
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if not line.endswith("\\"):
            found.append(pending.rstrip("\n"))
            pending = ""
    assert not pending, f"a continuation line ends the block: {pending}"
    return found


def without_comment(command: str) -> str:
    return command.split("#", 1)[0].strip()


def session_script(lines: list[str], port: int) -> str:
    """A bash script that runs ``lines`` against the server on ``port`` and prints each
    line's exit status after its output."""
    script = ["set -o pipefail", CURL_FAILS]
    for number, line in enumerate(lines):
        line = line.replace("localhost:8000", f"localhost:{port}").replace(".venv/bin/", f"{ROOT}/.venv/bin/")
        script += [line, f'printf "\\n{STATUS} {number} %d\\n" "$?"']
    return "\n".join(script) + "\n"


def run_session(lines: list[str], port: int, cwd: Path, env: dict[str, str]) -> list[tuple[str, int, str]]:
    """Each line, its exit status and its output (standard error included)."""
    done = subprocess.run(
        ["bash", "-c", session_script(lines, port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    results, output = [], ""
    for text in done.stdout.splitlines(keepends=True):
        marker = re.fullmatch(rf"{STATUS} (\d+) (\d+)\n", text)
        if marker:
            results.append((lines[int(marker[1])], int(marker[2]), output))
            output = ""
        else:
            output += text
    assert len(results) == len(lines), f"the session stopped after {len(results)} lines:\n{done.stdout}"
    return results


@pytest.fixture(scope="module")
def readme() -> dict[str, str]:
    return sections(README.read_text(encoding="utf-8"))


def test_the_readmes_quickstart_and_examples_run_as_written(readme, tmp_path):
    quickstart = shell_blocks(readme["Quickstart"])
    assert len(quickstart) == 2, "the quickstart holds the two commands, then the lines to paste"
    two_commands, lines = quickstart
    assert [without_comment(c) for c in commands(two_commands)] == ["make run", "make test"]
    examples = commands(shell_blocks(readme["The API"])[0])  # they use the quickstart's $KEY and $ID
    assert any("$KEY" in line for line in examples) and any("$ID" in line for line in examples)

    database = f"sqlite:///{tmp_path / 'var' / 'demarche.db'}"
    port = free_port()
    env = {"DEMARCHE_DATABASE_URL": database, "DEMARCHE_PORT": str(port), "DEMARCHE_LOG_LEVEL": "WARNING"}
    # `make run` as the README says, on a new database and a free port. The environment the
    # suite runs in is installed already: -o keeps make from installing into it again.
    assert f"RUNTIME := {RUNTIME_STAMP.replace('.venv', '$(VENV)')}" in (ROOT / "Makefile").read_text()
    make_run = ["make", "-o", RUNTIME_STAMP, "run"]
    with serve(database, tmp_path / "make-run.log", command=make_run, port=port, env=env, startup_seconds=180):
        session = run_session(commands(lines) + examples, port, tmp_path, {**os.environ, **env})
    failed = [f"{line}\n  exit {status}: {output.strip()[:2000]}" for line, status, output in session if status]
    assert not failed, "README lines that fail:\n" + "\n".join(failed)
    patched = next(output for line, _, output in session if "-X PATCH" in line)
    assert '"version":2' in patched, "the quickstart's write changes the incident"


def test_make_run_installs_the_runtime_dependencies_only(tmp_path):
    venv = tmp_path / "venv"
    run = _dry_run("run", venv)
    assert f"{venv}/bin/python -m pip install --quiet -c constraints.txt -e ." in run
    assert "[test]" not in run
    assert "-e '.[test]'" in _dry_run("test", venv)


def _dry_run(target: str, venv: Path) -> str:
    """What ``make target`` would run in a checkout whose virtual environment is ``venv``."""
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout
