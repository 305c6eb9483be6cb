# Developer and CI entry points for the edgeops.cloudflare collection.
# GNU make. Every target works from a clean clone: it builds what it needs
# (.venv from tests/requirements/dev.txt, the .build/ symlinks, ansible-test's
# pip bootstrap cache) and nothing outside the repo except ~/.ansible/test/cache.
#
#   make venv         create/refresh .venv (Python 3.12; PY_MINOR=3.x to change) from the pins
#   make units        pytest tests/unit
#   make contract     pytest tests/emulator tests/contract
#   make integration  pytest tests/integration (real ansible-playbook runs)
#   make sanity       ansible-test sanity --venv (no docker)
#   make test         setup (venv, links, ansible-test pip cache), then all of the above,
#                     each timed, with a summary; fails if any stage fails
#   make demo         build + install the collection tarball, run docs/examples/demo.yml
#                     against the local emulator
#   make clean        remove .venv, .build, tests/output and caches
#
# Useful variables: PYTEST_ARGS="-k foo -x", SANITY_ARGS="--test pep8",
# ALLOW_EMPTY=1 (a suite with no tests yet warns instead of failing; never in `make test`).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PY_MINOR ?= 3.12
VENV := $(ROOT)/.venv
VENV_BIN := $(VENV)/bin
VPY := $(VENV_BIN)/python
# ecosystem.txt includes dev.txt (-r) and adds ansible-runner / ansible-builder for the AWX and EE tests.
REQUIREMENTS := $(ROOT)/tests/requirements/ecosystem.txt
VENV_STAMP := $(VENV)/.installed-dev

BUILD := $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION_DIR := $(COLLECTIONS)/ansible_collections/edgeops/cloudflare
# A directory holding only `python$(PY_MINOR)` -> a real interpreter, so that
# ansible-test (which looks the name up on PATH) never meets a broken pyenv shim.
PYTHON_LINKS := $(BUILD)/python-bin
# ansible-test runs in a mirror of the checkout (see the sanity target).
ANSIBLE_TEST_TREE := $(BUILD)/ansible-test/ansible_collections/edgeops/cloudflare

ALLOW_EMPTY ?= 0
PYTEST_ARGS ?=
SANITY_ARGS ?=

# PATH for every recipe: the venv (python, ansible-playbook, ansible-test, pytest), then
# the interpreter link (a python$(PY_MINOR) that is never a broken shim), then the caller's.
ORIG_PATH := $(PATH)
export PATH := $(VENV_BIN):$(PYTHON_LINKS):$(ORIG_PATH)
export ALLOW_EMPTY
export PYTEST_PYTHON := $(VPY)
# Tests and ansible-playbook subprocesses find this checkout as edgeops.cloudflare.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Keep pytest's and Python's caches out of the way of ansible-test sanity.
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup venv links units contract integration sanity test demo clean ansible-test-bootstrap

help:
	@sed -n '1,/^$$/p' $(ROOT)/Makefile | sed -n 's/^# \{0,1\}//p'

# ---------------------------------------------------------------- venv
venv: $(VENV_STAMP)

# Rebuilt only when the pinned requirements change (or the venv is missing/broken).
$(VENV_STAMP): $(REQUIREMENTS) $(ROOT)/tests/requirements/dev.txt
	@py=$$(PATH='$(ORIG_PATH)' '$(ROOT)/scripts/find-python' '$(PY_MINOR)')
	if ! '$(VPY)' -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PY_MINOR)")' 2>/dev/null; then
	    echo "creating $(VENV) with $$py"
	    rm -rf '$(VENV)'
	    "$$py" -m venv '$(VENV)'
	fi
	echo "installing $(REQUIREMENTS) into $(VENV)"
	'$(VPY)' -m pip install -qq --disable-pip-version-check --require-virtualenv -r '$(REQUIREMENTS)'
	'$(VPY)' -m pip check --disable-pip-version-check
	touch '$@'

# ---------------------------------------------------------------- .build links
# .build/collections/ansible_collections/edgeops/cloudflare -> the repo root, and
# .build/python-bin/python$(PY_MINOR) -> a real interpreter. Cheap; refreshed every time
# so a moved checkout or a new pyenv patch release is picked up.
links:
	@mkdir -p '$(dir $(COLLECTION_DIR))' '$(PYTHON_LINKS)'
	[[ "$$(readlink '$(COLLECTION_DIR)' || true)" == '$(ROOT)' ]] || ln -sfn '$(ROOT)' '$(COLLECTION_DIR)'
	py=$$(PATH='$(ORIG_PATH)' '$(ROOT)/scripts/find-python' '$(PY_MINOR)')
	[[ "$$(readlink '$(PYTHON_LINKS)/python$(PY_MINOR)' || true)" == "$$py" ]] || ln -sfn "$$py" '$(PYTHON_LINKS)/python$(PY_MINOR)'

# ---------------------------------------------------------------- tests
units: venv links
	@cd '$(ROOT)' && scripts/run-pytest tests/unit -- $(PYTEST_ARGS)

contract: venv links
	@cd '$(ROOT)' && scripts/run-pytest tests/emulator tests/contract -- $(PYTEST_ARGS)

integration: venv links
	@cd '$(ROOT)' && scripts/run-pytest tests/integration -- $(PYTEST_ARGS)

ansible-test-bootstrap: venv
	@'$(VPY)' '$(ROOT)/scripts/ansible-test-bootstrap' --python-version '$(PY_MINOR)'

# ansible-test must run with its working directory (os.getcwd(), which resolves
# symlinks) under ansible_collections/<ns>/<name>/: mirror the files git would commit
# into a real directory there and run it in that copy. Results: $(ANSIBLE_TEST_TREE)/tests/output.
sanity: venv links ansible-test-bootstrap
	@'$(VPY)' '$(ROOT)/scripts/sync-collection-tree' '$(ANSIBLE_TEST_TREE)'
	cd '$(ANSIBLE_TEST_TREE)'
	ansible-test sanity --venv --python '$(PY_MINOR)' $(SANITY_ARGS)

# setup first, so the stage times below measure tests, not the venv build.
setup: venv links ansible-test-bootstrap

test:
	@MAKE='$(MAKE)' '$(ROOT)/scripts/run-stages' setup units contract integration sanity

# ---------------------------------------------------------------- demo
demo: venv
	@'$(ROOT)/scripts/demo'

# ---------------------------------------------------------------- clean
clean:
	@cd '$(ROOT)'
	rm -rf .venv .build tests/output .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
