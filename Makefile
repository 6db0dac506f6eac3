# Two commands a new user needs on a fresh machine:
#   make lab    set up .venv + frontend, then open JupyterLab on examples/ (default registry)
#   make test   set up everything the tests need (Debian's chromium too), then run
#               lint, type checks, Python tests, TypeScript unit tests, browser tests
#               and the wheel check.
# Everything is installed by these rules; nothing is expected to be installed by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
CHROMIUM ?= /usr/bin/chromium

.PHONY: lab setup build frontend test lint typecheck pytest pytest-fast ts-test browser-deps cluster-deps wheel-check bench bench-peers clean format

setup: $(VENV)/.stamp node_modules/.stamp

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	SKIP_JUPYTER_BUILDER=1 $(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Build the frontend in place and point the venv's JupyterLab and server at this
# checkout, so edits to Python take effect on restart and a rebuild is all the
# frontend needs.
build: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" npm run build
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-builder develop --overwrite . > /dev/null
	$(BIN)/jupyter server extension enable --sys-prefix syft_pm > /dev/null

lab: build
	$(BIN)/jupyter lab --notebook-dir=examples $(ROOT_FLAG)

lint: setup
	$(BIN)/ruff check syft_pm tests bench examples
	$(BIN)/ruff format --check syft_pm tests bench examples
	npm run --silent lint:check

typecheck: setup
	$(BIN)/mypy
	npm run --silent typecheck

browser-deps:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Debian's chromium (needed by the browser tests)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium > /dev/null; \
	fi

# A real single-node Slurm cluster for tests/cluster (Debian's packages); the tests
# start and stop its daemons themselves (tests/cluster/slurmcluster.py).
cluster-deps:
	@if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then \
	  echo "Installing Debian's slurm-wlm and munge (needed by the cluster tests)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge > /dev/null; \
	fi

ts-test: setup
	npm test

# The browser tests run in a pytest process of their own: playwright's sync API keeps
# an event loop marked running for the whole session, which would break the asyncio
# fixtures of the server tests that follow. Both runs always happen; either failing fails.
pytest: build browser-deps cluster-deps
	rc=0; \
	$(BIN)/pytest -q -p no:cacheprovider --ignore=tests/browser || rc=$$?; \
	$(BIN)/pytest -q -p no:cacheprovider tests/browser || rc=$$?; \
	exit $$rc

wheel-check: setup
	bash .ci/wheel-check

test: lint typecheck ts-test pytest wheel-check
	@echo "make test: all checks passed"

bench: build
	$(PY) bench/run.py

# syft_pm side by side with pm2 and supervisord (installs both into a scratch folder,
# $$SYFT_PM_PEERS_DIR, default /tmp/syft-pm-bench-peers; needs npm). A few minutes.
bench-peers: setup
	$(PY) bench/bench_peers.py --run

format: setup
	$(BIN)/ruff format syft_pm tests bench examples
	$(BIN)/ruff check --fix syft_pm tests bench examples
	npm run lint

clean:
	rm -rf lib syft_pm/labextension syft_pm/kernel/static dist build artifacts *.tsbuildinfo
