# The two commands of the README's quick start: `make run` and `make test`; `make serve` for
# production.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run serve test test-sqlite test-postgresql bench bench-http bench-avatar format clean

run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask run --debug

# Production: migrate, then serve under gunicorn (gunicorn.conf.py). The settings come from the
# environment or .env; the app refuses to start without a SECRET_KEY of 32+ characters, and
# gunicorn refuses several workers that would count rate limits apart (RATELIMIT_STORAGE_URI).
serve: export MICROBLOG_CONFIG = production
serve: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	exec $(BIN)/gunicorn -c gunicorn.conf.py microblog:app

# The suite runs twice, both passes at once (a core each): on SQLite, and on this PostgreSQL
# database with the system tests. Each line of output says its pass; the coverage of both is
# reported last. Without a server there, the PostgreSQL pass skips every test and says how to
# start one.
TEST_POSTGRESQL_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# A pass that fails fails its target, though its output is piped (unbuffered) to its label.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -f .coverage .coverage.*
	$(MAKE) --no-print-directory -j2 test-sqlite test-postgresql
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

test-sqlite: $(VENV)/.dev
	PYTHONUNBUFFERED=1 COVERAGE_FILE=.coverage.sqlite \
	  $(BIN)/python -m pytest --cov --cov-report= --cov-fail-under=0 -m "not system" $(PYTEST_ARGS) \
	  2>&1 | sed -u 's/^/sqlite     | /'

test-postgresql: $(VENV)/.dev
	PYTHONUNBUFFERED=1 COVERAGE_FILE=.coverage.postgresql TEST_DATABASE_URL=$(TEST_POSTGRESQL_URL) \
	  $(BIN)/python -m pytest --cov --cov-report= --cov-fail-under=0 $(PYTEST_ARGS) 2>&1 \
	  | sed -u 's/^/postgresql | /'

# Benchmarks (README, "Benchmarks"): datasets in .bench/, made on first use; PostgreSQL too when
# BENCH_DATABASE_URL names a server. BENCH_ARGS, e.g. "--quick" or "--sizes 100k --pages explore".
bench: $(VENV)/.dev
	$(BIN)/python -m benchmarks.in_process $(BENCH_ARGS)

bench-http: $(VENV)/.dev
	$(BIN)/python -m benchmarks.over_http $(BENCH_ARGS)

bench-avatar: $(VENV)/.dev
	$(BIN)/python -m benchmarks.avatar_pictures $(BENCH_ARGS)

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.runtime: requirements.txt $(VENV)/.created
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .coverage .coverage.* htmlcov artifacts
