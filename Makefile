# edgeops.cloudflare: thin wrappers around nox (noxfile.py; `.venv-nox/bin/nox -l` lists every session).
#
#   make demo    build and install the collection, run docs/examples/demo.yml against the emulator
#   make test    everything CI checks (nox -s test, JOBS=3 sessions at a time, then their times)
#   make bench   bench/bench.py (BENCH_ARGS=--quick for a short run)
#   make test-live         tests/live against the real Cloudflare API (tests/live/README.md); not in make test
#   make test-live-sweep   delete shares left by earlier live runs (SWEEP_ARGS=--dry-run only lists them)
#   make clean   remove the venvs, .nox, .build and the caches
#   make nox ARGS="-s lint"   any nox command line
#
# The first run installs nox (tests/requirements/nox.txt) into .venv-nox with Python 3.12
# (scripts/find-python finds it on PATH or under pyenv).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
NOX_VENV := .venv-nox
NOX := $(NOX_VENV)/bin/nox --error-on-missing-interpreters
ARGS ?=
# One more than CI's 2 cores: a session waiting on a timer leaves its core to another.
JOBS ?= 3

.PHONY: help demo test bench test-live test-live-sweep clean nox

help:
	@sed -n '/^#/!q; s/^# \{0,1\}//p' Makefile

$(NOX_VENV)/.installed: tests/requirements/nox.txt
	rm -rf $(NOX_VENV)
	"$$(scripts/find-python 3.12)" -m venv $(NOX_VENV)
	$(NOX_VENV)/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements/nox.txt
	touch $@

demo: $(NOX_VENV)/.installed
	$(NOX) -s demo

test: $(NOX_VENV)/.installed
	$(NOX) --parallel $(JOBS) --allow-parallel --reuse-venv=yes -s test

bench: $(NOX_VENV)/.installed
	$(NOX) -s bench -- $(BENCH_ARGS)

test-live: $(NOX_VENV)/.installed
	$(NOX) -s test-live -- $(PYTEST_ARGS)

test-live-sweep: $(NOX_VENV)/.installed
	$(NOX) -s test-live-sweep -- $(SWEEP_ARGS)

nox: $(NOX_VENV)/.installed
	$(NOX) $(ARGS)

clean:
	rm -rf .venv-nox .nox .build tests/output .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
