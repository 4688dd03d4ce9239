# One entry point for everything: `make run` starts the desk, `make test` runs every test.
# Both create the virtual environment and install what is missing first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# Development defaults; the environment wins (production sets DEBUG=0 and SECRET_KEY).
export DEBUG ?= 1
export PYTHONUNBUFFERED := 1

.PHONY: install run test test-sqlite lint fmt check migrate seed e2e clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

## make run: migrate, load demo data if the database is empty, then web + worker + beat.
run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "  After-sales desk: http://127.0.0.1:$${PORT:-8000}/"
	@echo "  Demo logins: agent / supervisor / finance / admin, password: $${DEMO_PASSWORD:-demo-desk-2026}"
	@echo "  Stop with Ctrl-C."
	@echo
	@# honcho exits 130 after Ctrl-C and 143 after SIGTERM: the desk was stopped, not broken.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile --port $${PORT:-8000}; \
	status=$$?; \
	if [ $$status -eq 130 ] || [ $$status -eq 143 ]; then echo "The desk has stopped."; \
	else exit $$status; fi

## make test: the whole suite (on PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## make test-sqlite: the whole suite on SQLite and the local-memory cache, whatever
## DATABASE_URL/REDIS_URL say (what a clone without PostgreSQL or Redis runs).
test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest $(PYTEST_ARGS)

## make e2e: the browser tests only (Chromium at /usr/bin/chromium or CHROMIUM_PATH);
## screenshots in test-artifacts/screenshots/.
e2e: install
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

clean:
	rm -rf $(VENV) var
