# Two commands matter: `make run` (serve on http://127.0.0.1:7780) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATABASE_URL ?= sqlite:///craton.sqlite
HOST ?= 127.0.0.1
PORT ?= 7780
PYTEST_ARGS ?=
# Test processes for `make test`; a single module runs faster with plain `pytest path`.
PYTEST_WORKERS ?= 2

.PHONY: run test check install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"

$(VENV)/.installed: $(BIN)/python server/pyproject.toml client/pyproject.toml
	$(BIN)/pip install --quiet -e "server[all]" -e "client"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed tests/requirements.txt
	$(BIN)/pip install --quiet -e "server[all,keystone]" -e "client[keystone]"
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/craton-dbsync --database-url "$(DATABASE_URL)" upgrade
	@if [ ! -f cratonrc ]; then \
		$(BIN)/craton-dbsync --database-url "$(DATABASE_URL)" bootstrap \
			--write-rc cratonrc --url "http://$(HOST):$(PORT)"; \
		echo "Credentials written to ./cratonrc (mode 0600): run 'source cratonrc'."; \
	else \
		echo "Using the credentials in ./cratonrc."; \
	fi
	$(BIN)/craton-api --database-url "$(DATABASE_URL)" --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Lint, formatting and types: one ruff configuration (ruff.toml) for the whole tree, mypy
# (mypy.ini) on the server and, strictly, on the client library whose types users see.
check: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy server/src
	$(BIN)/mypy --strict client/src

bench: install-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) craton.sqlite craton.sqlite-wal craton.sqlite-shm cratonrc

# The database-facing tests and the fault test on a 3-node MariaDB Galera cluster behind HAProxy,
# started on 127.0.0.1 by deploy/galera/cluster.sh (docs/deployment.md). GALERA_KEEP=1 leaves it running.
.PHONY: test-galera
test-galera: install-test
	deploy/galera/test.sh
