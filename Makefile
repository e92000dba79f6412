# Jabber: `make run` serves http://127.0.0.1:8000/chat/, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup migrate run test test-js test-prod test-all lint format bench superuser

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# A laptop runs in debug mode (an insecure development key) unless told otherwise.
migrate: setup
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput

# `manage.py serve` starts uvicorn with the production flags (websockets' Sans-I/O
# implementation won the benchmark, docs/benchmarks.md); `--server daphne` serves
# the same app. Static files come through WhiteNoise; Python changes restart it.
run: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py serve --reload

# Embedded defaults: SQLite and the in-memory channel layer (plus the real
# servers, Redis and browser tests that start their own components).
test: setup node_modules/.package-lock.json test-js
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Unit tests of the browser client's pure modules (Node's own runner; no packages needed).
test-js:
	node --test jstests/

# The same suite on PostgreSQL + Redis, both started for the run and stopped after.
test-prod: setup node_modules/.package-lock.json
	$(PY) -m tests.support.with_services -- $(VENV)/bin/pytest $(PYTEST_ARGS)

# axe-core for the accessibility checks of the browser tests (package.json).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

test-all: test test-prod

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m bench.run --standard

superuser: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py createsuperuser
