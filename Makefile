# Demarche: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres migrate seed openapi clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## migrate a SQLite database, load the demo data, serve on http://127.0.0.1:8000
	$(BIN)/demarche migrate
	$(BIN)/demarche seed
	$(BIN)/demarche serve

test: $(STAMP)  ## lint, then the whole suite on SQLite, or on DEMARCHE_TEST_DATABASE_URL
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/pytest

test-postgres: $(STAMP)  ## the whole suite on the local PostgreSQL
	DEMARCHE_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres $(BIN)/pytest

migrate: $(STAMP)
	$(BIN)/demarche migrate

seed: $(STAMP)
	$(BIN)/demarche seed

openapi: $(STAMP)  ## regenerate openapi/openapi.json from the app
	$(BIN)/demarche openapi --output openapi/openapi.json

clean:
	rm -rf $(VENV) var
