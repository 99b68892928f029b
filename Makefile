# Remediator: `make run` starts everything, `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# make run: the environment (or the make command line) wins, then .env, then the default.
dotenv = $(shell sed -n 's/^$(1)=\([^[:space:]]*\).*/\1/p' .env 2>/dev/null | tail -n 1 | tr -d \"\')
PORT ?= $(or $(call dotenv,PORT),8000)
export BIND ?= $(or $(call dotenv,BIND),127.0.0.1)
# Links sent outside (API, admission messages, CI variables) point where `make run` serves;
# exported so that every process agrees (honcho gives each process type its own PORT).
export BASE_URL ?= $(or $(call dotenv,BASE_URL),http://$(if $(filter 0.0.0.0 ::,$(BIND)),127.0.0.1,$(BIND)):$(PORT))
export WEB_CONCURRENCY ?= $(or $(call dotenv,WEB_CONCURRENCY),2)
export WORKER_CONCURRENCY ?= $(or $(call dotenv,WORKER_CONCURRENCY),2)
export WEB_THREADS ?= $(or $(call dotenv,WEB_THREADS),4)
comma := ,
export WORKER_QUEUES ?= $(or $(call dotenv,WORKER_QUEUES),ingest$(comma)actions$(comma)housekeeping)
# The first Python >= 3.11 on the PATH.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)

.PHONY: install run test faults image-test image-requirements lint format demo bench bench-smoke docs screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.11 found on the PATH" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py deadlines_refresh --missing
	$(BIN)/python manage.py ensure_admin
	@echo "Remediator: http://$(BIND):$(PORT)/  (admin /admin/, API docs /api/v1/docs/; Ctrl-C stops it)"
	@# Settings read .env themselves; honcho would let .env override the environment.
	exec $(BIN)/honcho start -e /dev/null -f Procfile -p $(PORT)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo $(DEMO_ARGS)

test: install
	deploy/test-tools.sh
	$(BIN)/pytest $(PYTEST_ARGS)

# The fault suite (tests/faults/): its own PostgreSQL and Redis, the Procfile's processes,
# broker/database outages and kill -9; removes everything it started, even on failure.
faults: install
	tests/faults/run.sh $(PYTEST_ARGS)

# The container image, the Compose file and the Helm chart, built, started and checked with
# podman (deploy/image-test/run.sh; output in var/image-test/). Needs root for podman.
image-test: install
	deploy/image-test/run.sh

# deploy/image/requirements.txt: pyproject.toml's runtime dependencies resolved and pinned
# in a fresh virtual environment (the image installs exactly these).
image-requirements:
	rm -rf var/requirements-venv && $(PYTHON) -m venv var/requirements-venv
	var/requirements-venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > var/requirements.in
	var/requirements-venv/bin/pip install --quiet --requirement var/requirements.in
	{ sed -n '1,2p' deploy/image/requirements.txt; var/requirements-venv/bin/pip freeze --exclude-editable; } > var/requirements.txt
	mv var/requirements.txt deploy/image/requirements.txt
	rm -rf var/requirements-venv var/requirements.in

# Every speed goal of issue 12 beside its floor, on PostgreSQL and Redis (bench/run.py):
# one table, and bench/results.json. BENCH_ARGS="--fleet-scans 2000 --skip dashboard" etc.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Every part of make bench at tiny sizes, once (CI runs it): its own databases
# (remediator_bench_smoke_<part>) and Redis db 10; var/bench-smoke.json. No timing asserted.
bench-smoke: install
	$(BIN)/python bench/run.py --smoke

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The documentation site from docs/ (mkdocs.yml) into var/site; --strict (in mkdocs.yml)
# fails on a broken link, anchor or nav entry.
docs: install
	$(BIN)/mkdocs build --strict

# docs/img/*.png: the main pages over demo data, in Chromium (docs/screenshots.py).
screenshots: install
	$(BIN)/python docs/screenshots.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
