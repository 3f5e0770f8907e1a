# Two commands matter: `make run` (serve on http://127.0.0.1:7780) and `make test`.
#
# `make run` honours the settings of docs/configuration.md: CRATON_DATABASE_URL,
# CRATON_API_HOST, CRATON_API_PORT (and every other CRATON_* variable) from the environment,
# or the make variables DATABASE_URL=, HOST=, PORT= on the command line, which win.
# The Makefile may be used from another directory (make -f path/to/Makefile run): the
# database and cratonrc are then those of the current directory.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON ?= python3
VENV ?= $(ROOT)/.venv
BIN := $(VENV)/bin
DATABASE_URL ?= $(or $(CRATON_DATABASE_URL),sqlite:///craton.sqlite)
HOST ?= $(or $(CRATON_API_HOST),127.0.0.1)
PORT ?= $(or $(CRATON_API_PORT),7780)
PYTEST_ARGS ?=
# Test processes for `make test`; a single module runs faster with plain `pytest path`.
PYTEST_WORKERS ?= 2

.PHONY: run test check install install-test shell bench clean

$(BIN)/python:
	@echo "Creating a virtualenv in $(VENV) (first run only)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"

$(VENV)/.installed: $(BIN)/python $(ROOT)/server/pyproject.toml $(ROOT)/client/pyproject.toml
	@echo "Installing craton-api, craton-dbsync, cratonclient and craton into $(VENV) (about a minute, first run only)..."
	$(BIN)/pip install --quiet -e "$(ROOT)/server[all]" -e "$(ROOT)/client"
	@touch $@
	@echo "Installed."

$(VENV)/.installed-test: $(VENV)/.installed $(ROOT)/tests/requirements.txt
	@echo "Installing the test tools into $(VENV) (first run only)..."
	$(BIN)/pip install --quiet -e "$(ROOT)/server[all,keystone]" -e "$(ROOT)/client[keystone]"
	$(BIN)/pip install --quiet -r $(ROOT)/tests/requirements.txt
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# The settings reach craton-dbsync and craton-api through the environment, so the values
# below are the ones both use, and the URL written into cratonrc is the one served.
run: export CRATON_DATABASE_URL := $(DATABASE_URL)
run: export CRATON_API_HOST := $(HOST)
run: export CRATON_API_PORT := $(PORT)
run: install
	@echo "Migrating the database to the current schema (craton-dbsync upgrade)..."
	@$(BIN)/craton-dbsync upgrade
	@if [ ! -f cratonrc ]; then \
		echo "Creating the first project and root user (craton-dbsync bootstrap)..."; \
		$(BIN)/craton-dbsync bootstrap --write-rc cratonrc; \
		echo "Credentials written to ./cratonrc (mode 0600): run 'source cratonrc'."; \
	else \
		echo "Using the credentials in ./cratonrc."; \
		$(BIN)/craton-dbsync update-rc cratonrc; \
	fi
	@echo "Starting craton-api on $(HOST):$(PORT) (Ctrl-C stops it)..."
	$(BIN)/craton-api

# A shell with the virtualenv's python, craton and craton-dbsync first on PATH.
shell: install
	@echo "Entering a shell with $(VENV)/bin first on PATH; 'exit' leaves it."
	@PATH="$(BIN):$$PATH" VIRTUAL_ENV="$(VENV)" $${SHELL:-/bin/sh}

test: install-test
	cd $(ROOT) && $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Lint, formatting and types: one ruff configuration (ruff.toml) for the whole tree, mypy
# (mypy.ini) on the server and, strictly, on the client library whose types users see.
check: install-test
	cd $(ROOT) && $(BIN)/ruff check .
	cd $(ROOT) && $(BIN)/ruff format --check .
	cd $(ROOT) && $(BIN)/mypy server/src
	cd $(ROOT) && $(BIN)/mypy --strict client/src

bench: install-test
	cd $(ROOT) && $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) craton.sqlite craton.sqlite-wal craton.sqlite-shm cratonrc

# The database-facing tests and the fault test on a 3-node MariaDB Galera cluster behind HAProxy,
# started on 127.0.0.1 by deploy/galera/cluster.sh (docs/deployment.md). GALERA_KEEP=1 leaves it running.
.PHONY: test-galera
test-galera: install-test
	deploy/galera/test.sh
