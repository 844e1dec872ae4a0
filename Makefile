# The two commands of the README's quick start: `make run` and `make test`; `make serve` for
# production.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run serve test bench bench-http bench-avatar format clean

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

# The suite runs twice: on SQLite, then on this PostgreSQL database (with the system tests).
# Without a server there, the second run skips every test and says how to start one.
TEST_POSTGRESQL_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest --cov --cov-report= -m "not system" $(PYTEST_ARGS)
	TEST_DATABASE_URL=$(TEST_POSTGRESQL_URL) \
	  $(BIN)/python -m pytest --cov --cov-append --cov-report=term $(PYTEST_ARGS)

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
	rm -rf $(VENV) .pytest_cache .coverage htmlcov artifacts
