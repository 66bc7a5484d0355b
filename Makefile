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
# pip itself comes first, pinned by its hash: the pip a venv starts with on Python 3.11 (23.2)
# refuses a hashed lock in which one package asks for another's extra (WeasyPrint asks for
# fonttools[woff]) as soon as the index holds a newer release than the lock's. Nothing is
# byte-compiled at install: Python compiles what it imports when it first does.
PIP_PIN := pip==25.3 --hash=sha256:9655943313a94722b7774661c21049070f6bbb0a1516bf02f7c8d5d9201514cd
$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	echo '$(PIP_PIN)' | $(BIN)/pip install --quiet --no-compile --require-hashes -r /dev/stdin
	$(BIN)/pip install --quiet --no-compile --require-hashes -r requirements.lock
	touch $@

## Re-make requirements.lock after changing the dependencies in pyproject.toml
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras -o requirements.lock pyproject.toml

frontend/dist/.built: frontend/package.json frontend/package-lock.json frontend/council.scss frontend/build.mjs frontend/init.js frontend/attendance.js frontend/questionnaire.js frontend/setting-autocomplete.js
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

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
test: setup
	bash tests/prepare_machine.sh
	$(BIN)/python -m pytest

## Benchmarks: the service beside the bare-stack reference (../shared/bench-ceiling), same wrk load
bench: setup
	bash tests/prepare_machine.sh
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m tests.bench.wrk_bench
	$(BIN)/python -m tests.bench.upload_stall
	$(BIN)/python -m tests.bench.soak --seconds 300
