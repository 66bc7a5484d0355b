# The README's two commands are `make run` and `make test`; both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test bench lock system-packages

# Python keeps what it compiles, in the venv (never beside the sources), even where the machine
# says otherwise (PYTHONDONTWRITEBYTECODE=1 here): without it every process of the suite (its
# workers, each server and command it starts) compiled every module it imported afresh.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

# Debian packages the app needs at run time: Pango (with its fonts) for WeasyPrint's PDFs.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

# Every package pinned with its hashes (requirements.lock, made from pyproject.toml by pip-tools:
# `make lock`); the app itself runs from this folder, so it is not installed into the venv.
# uv installs the lock (pinned by its hash, installed by the venv's own pip): 2 s where pip took
# 8 to 11 s, every clean clone and every CI run. Every file's hash is pinned, so uv may take a
# file from whichever index holds it (`unsafe-best-match` is only unsafe without hashes). Nothing
# is byte-compiled at install: Python compiles what it imports when it first does.
UV_PIN := uv==0.13.10 --hash=sha256:7cc9c41b43d583e34c781fd3446405b06e9c5fa2db468ce2a534d353db6429e5
$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	echo '$(UV_PIN)' | $(BIN)/pip install --quiet --disable-pip-version-check --no-compile --require-hashes -r /dev/stdin
	$(BIN)/uv pip install --quiet --python $(BIN)/python --index-strategy unsafe-best-match --require-hashes -r requirements.lock
	touch $@

## Re-make requirements.lock after changing the dependencies in pyproject.toml
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras -o requirements.lock pyproject.toml

frontend/dist/.built: frontend/package.json frontend/package-lock.json frontend/council.scss frontend/build.mjs frontend/init.js frontend/attendance.js frontend/questionnaire.js frontend/setting-autocomplete.js
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

# The tests' identity provider (oidc-provider on Node.js, run on loopback by the tests).
tests/oidc_provider/node_modules/.installed: tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	cd tests/oidc_provider && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

system-packages:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { echo "setup: installing Pango for PDFs ($(SYSTEM_PACKAGES))"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES)'; }

setup: system-packages $(BIN)/.installed frontend/dist/.built

## Start the app on SQLite (or DATABASE_URL) with the demo programme at http://127.0.0.1:8000
run: setup
	$(BIN)/python -m app migrate
	$(BIN)/python -m app seed --demo
	$(BIN)/python -m app serve

## Run the whole test suite (both databases, real browser)
test: setup tests/oidc_provider/node_modules/.installed
	bash tests/prepare_machine.sh
	$(BIN)/python -m pytest

## Benchmarks: the service beside the bare-stack reference (../shared/bench-ceiling), same wrk load
bench: setup
	bash tests/prepare_machine.sh
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m tests.bench.wrk_bench
	$(BIN)/python -m tests.bench.upload_stall
	$(BIN)/python -m tests.bench.soak --seconds 300
