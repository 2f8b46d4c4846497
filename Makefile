# Demarche: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
TOOLS := $(VENV)/.installed-tools
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-postgres soak scale replica migrate seed openapi client screenshots bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What serving needs: the package and its runtime dependencies (as the image installs them),
# the client (clients/python, which the import and export commands use) first, as no package
# index has it.
$(RUNTIME): pyproject.toml constraints.txt clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e clients/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(RUNTIME)

# What testing needs besides: pytest, ruff, Playwright, schemathesis, hadolint and the client
# generators (the `test` extra), which hold the runtime dependencies too.
$(TOOLS): pyproject.toml constraints.txt clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e clients/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(TOOLS) $(RUNTIME)

$(CHROMIUM):  ## Debian's Chromium, which the browser tests of /docs and the pages drive
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

run: $(RUNTIME)  ## migrate a SQLite database, load the demo data into it when empty, serve on http://127.0.0.1:8000
	$(BIN)/demarche migrate
	$(BIN)/demarche seed
	$(BIN)/demarche serve

test: $(TOOLS) $(CHROMIUM)  ## lint, then the whole suite on SQLite, or on DEMARCHE_TEST_DATABASE_URL
	$(BIN)/ruff check app tests migrations bench clients
	$(BIN)/ruff format --check app tests bench clients
	$(BIN)/hadolint Dockerfile
	$(BIN)/pytest

test-postgres: $(TOOLS) $(CHROMIUM)  ## the whole suite on the local PostgreSQL (its replica's tests too with DEMARCHE_TEST_REPLICA_URL: make replica)
	DEMARCHE_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres $(BIN)/pytest

soak: $(TOOLS)  ## a minute of readers, writers, an import, hostile requests and slow sockets at once, then checks (tests/soak.py)
	$(BIN)/python -m tests.soak

replica:  ## a streaming replica of the local PostgreSQL on 127.0.0.1:5433 (.ci/replica; kept if it already streams)
	bash .ci/replica

scale: $(TOOLS)  ## three processes on PostgreSQL, its replica and Redis, a minute of clients, one process killed (tests/scale.py)
	DEMARCHE_TEST_DATABASE_URL=$${DEMARCHE_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
	DEMARCHE_TEST_REPLICA_URL=$${DEMARCHE_TEST_REPLICA_URL:-postgresql+psycopg://postgres@127.0.0.1:5433/postgres} \
	$(BIN)/python -m tests.scale

migrate: $(RUNTIME)
	$(BIN)/demarche migrate

seed: $(RUNTIME)
	$(BIN)/demarche seed

openapi: $(RUNTIME)  ## regenerate openapi/openapi.json from the app
	$(BIN)/demarche openapi --output openapi/openapi.json

client: $(TOOLS)  ## regenerate the client's models (clients/python/src/demarche_client/models.py) from openapi/openapi.json
	$(BIN)/python clients/python/generate.py

screenshots: $(TOOLS) $(CHROMIUM)  ## PNGs of every HTML page on the demo data, 1400×900 and phone width, in tests/screenshots/
	$(BIN)/python -m tests.screenshots

bench: $(TOOLS)  ## the benchmark of bench/README.md (1,000,000 incidents; QUICK=1 for 100,000); writes bench/RESULTS.md
	$(BIN)/python -m bench.run $(if $(QUICK),--quick) $(BENCH_ARGS)

bench-quick: $(TOOLS)  ## the benchmark's quick mode: 100,000 incidents, shorter loads
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var bench/.venv-tools
