# Developer and CI entry points for the edgeops.cloudflare collection.
# GNU make. Every target works from a clean clone: it builds what it needs (the venvs
# from the pins in tests/requirements/, the .build/ symlinks, ansible-test's pip
# bootstrap cache) and writes nothing outside the repo except ~/.ansible/test/.
#
# The tested matrix lives in ONE place, tests/requirements/matrix.txt (row, Python,
# ansible-core); `scripts/matrix readme-table` prints it for the README:
#   .venv           primary dev venv: Python 3.12, ansible-core from dev.txt (= the
#                   newest row), every test dependency (SDK, ansible-runner, ansible-builder)
#   .venv-<row>     one per matrix row (2.19: 3.11, 2.20: 3.12, 2.21: 3.13): ansible-core
#                   and the test tools of tests/requirements/matrix-tests.txt only
#   .venv-lint      ruff, ansible-lint, antsibull-changelog   (tests/requirements/lint.txt)
#   .venv-docs      antsibull-docs, Sphinx                    (tests/requirements/docs.txt)
#   .venv-galaxy-importer  galaxy-importer                    (tests/requirements/galaxy-importer.txt)
#
#   make venv         create/refresh .venv (Python 3.12) from the pins
#   make units        pytest tests/unit                       (primary .venv)
#   make contract     pytest tests/emulator tests/contract    (primary only: needs the cloudflare SDK)
#   make integration  pytest tests/e2e, all of it     (primary .venv)
#   make integration-primary  only the PRIMARY_ONLY suites    (primary .venv; what make test runs)
#   make integration-module   the rows' suites with every task on the module path (primary .venv)
#   make sanity       ansible-test sanity --venv              (primary .venv, Python 3.12)
#   make units-2.19 integration-2.19 sanity-2.19   the same on one matrix row (also 2.20, 2.21);
#                     integration-<row> leaves out the primary-only suites (PRIMARY_ONLY below)
#   make matrix       units, integration and sanity on every matrix row
#   make lint         ruff, ansible-lint --profile production, changelog checks, matrix checks
#   make ruff | ansible-lint | changelog | check-matrix      one of those
#   make docs         scripts/build-docs: antsibull-docs lint + the HTML site, warnings are errors
#   make galaxy-import  build the tarball, run galaxy-importer on it: no errors, no warnings
#   make changelog-release   antsibull-changelog release (only when tagging a release)
#   make test         what .ci/run runs: every venv, then units, contract,
#                     integration-primary and integration-module on .venv; units, integration and sanity on every
#                     matrix row; ruff, ansible-lint, changelog, docs, galaxy-import. Each
#                     stage timed, TEST_JOBS (2) at a time, a summary table at the end;
#                     fails if any stage fails
#   make demo         build + install the collection tarball, run docs/examples/demo.yml
#                     against the local emulator
#   make bench        bench/bench.py: timings against the alternatives (BENCH_ARGS=--quick)
#   make test-live    tests/live against the real Cloudflare API (needs CLOUDFLARE_LIVE_TESTS=1 and
#                     the variables of tests/live/README.md; refuses, naming them, without); not in make test
#   make test-live-sweep   delete the edgeops-live-* shares left by earlier live runs (SWEEP_ARGS=--dry-run)
#   make clean        remove the venvs, .build, tests/output and caches
#
# Useful variables: PYTEST_ARGS="-k foo -x", SANITY_ARGS="--test pep8", TEST_JOBS=1
# (one stage at a time, output streamed), FAIL_FAST=1, ALLOW_EMPTY=1 (a suite with no
# tests yet warns instead of failing; never in `make test`).

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

# ---------------------------------------------------------------- the matrix
MATRIX_FILE := $(ROOT)/tests/requirements/matrix.txt
MATRIX_ROWS := $(shell awk '!/^[[:space:]]*\#/ && NF {print $$1}' '$(MATRIX_FILE)')
MATRIX_PYTHONS := $(sort $(shell awk '!/^[[:space:]]*\#/ && NF {print $$2}' '$(MATRIX_FILE)'))
row_python = $(shell awk -v r='$(1)' '!/^[[:space:]]*\#/ && $$1 == r {print $$2}' '$(MATRIX_FILE)')
# Integration suites that `make test` runs on the primary .venv only (integration-primary),
# not on the matrix rows; the rows run everything else in tests/e2e:
# - the in-process fault matrix and convergence property drive module_utils directly
#   (hundreds of converges; the same code the rows exercise through ansible-playbook);
# - the AWX runner and execution-environment tests need ansible-runner/ansible-builder
#   (ecosystem.txt), which the row venvs do not hold.
# The SDK contract test (make contract) is primary-only too: it needs the cloudflare SDK.
PRIMARY_ONLY := tests/e2e/test_fault_matrix.py tests/e2e/test_convergence_property.py tests/e2e/test_export_property.py \
                tests/e2e/test_awx_runner.py tests/e2e/test_execution_environment.py
ROW_INTEGRATION_ARGS := $(addprefix --ignore=,$(PRIMARY_ONLY))

BUILD := $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION_DIR := $(COLLECTIONS)/ansible_collections/edgeops/cloudflare
# A directory holding only `python3.X` -> real interpreters (the primary's and every
# matrix row's), so that ansible-test (which looks the name up on PATH) never meets a
# broken pyenv shim.
PYTHON_LINKS := $(BUILD)/python-bin
# ansible-test runs in a mirror of the checkout, one per venv (see scripts/run-sanity).
ANSIBLE_TEST_TREE := $(BUILD)/ansible-test/ansible_collections/edgeops/cloudflare
row_tree = $(BUILD)/ansible-test-$(1)/ansible_collections/edgeops/cloudflare

ALLOW_EMPTY ?= 0
PYTEST_ARGS ?=
SANITY_ARGS ?=
TEST_JOBS ?= 2

# PATH for every recipe: the venv (python, ansible-playbook, ansible-test, pytest), then
# the interpreter links (python3.X that are never broken shims), then the caller's.
# Matrix-row recipes replace the first entry with their own venv.
ORIG_PATH := $(PATH)
export MAKE_VENV_ORIG_PATH := $(ORIG_PATH)
export PATH := $(VENV_BIN):$(PYTHON_LINKS):$(ORIG_PATH)
export ALLOW_EMPTY
export PYTEST_PYTHON := $(VPY)
# Tests and ansible-playbook subprocesses find this checkout as edgeops.cloudflare.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Keep pytest's and Python's caches out of the way of ansible-test sanity.
export PYTHONDONTWRITEBYTECODE := 1

ROW_VENVS := $(addprefix venv-,$(MATRIX_ROWS))
ROW_UNITS := $(addprefix units-,$(MATRIX_ROWS))
ROW_INTEGRATION := $(addprefix integration-,$(MATRIX_ROWS))
ROW_SANITY := $(addprefix sanity-,$(MATRIX_ROWS))

.PHONY: test-live test-live-sweep help setup venv links units contract integration integration-primary integration-module sanity test demo bench clean ansible-test-bootstrap \
        $(ROW_VENVS) $(ROW_UNITS) $(ROW_INTEGRATION) $(ROW_SANITY) matrix \
        venv-lint venv-docs venv-galaxy-importer lint ruff ansible-lint changelog changelog-release \
        check-matrix docs galaxy-import

help:
	@sed -n '1,/^$$/p' $(ROOT)/Makefile | sed -n 's/^# \{0,1\}//p'

# ---------------------------------------------------------------- venvs
# scripts/make-venv DIR PYTHON REQUIREMENTS: a no-op while the stamp matches the
# interpreter and the pin files; otherwise install exactly, `pip check`, and fail if
# anything installed is not pinned.
venv:
	@'$(ROOT)/scripts/make-venv' '$(VENV)' '$(PY_MINOR)' '$(REQUIREMENTS)'

$(ROW_VENVS): venv-%:
	@req=$$('$(ROOT)/scripts/matrix' requirements '$*')
	'$(ROOT)/scripts/make-venv' '$(ROOT)/.venv-$*' '$(call row_python,$*)' "$$req"

venv-lint:
	@'$(ROOT)/scripts/make-venv' '$(ROOT)/.venv-lint' '$(PY_MINOR)' '$(ROOT)/tests/requirements/lint.txt'

venv-docs:
	@'$(ROOT)/scripts/make-venv' '$(ROOT)/.venv-docs' '$(PY_MINOR)' '$(ROOT)/tests/requirements/docs-venv.txt'

venv-galaxy-importer:
	@'$(ROOT)/scripts/make-venv' '$(ROOT)/.venv-galaxy-importer' '$(PY_MINOR)' '$(ROOT)/tests/requirements/galaxy-importer.txt'

# ---------------------------------------------------------------- .build links
# .build/collections/ansible_collections/edgeops/cloudflare -> the repo root, and
# .build/python-bin/python3.X -> a real interpreter for every Python in use. Cheap;
# refreshed every time so a moved checkout or a new pyenv patch release is picked up.
links:
	@mkdir -p '$(dir $(COLLECTION_DIR))' '$(PYTHON_LINKS)'
	[[ "$$(readlink '$(COLLECTION_DIR)' || true)" == '$(ROOT)' ]] || ln -sfn '$(ROOT)' '$(COLLECTION_DIR)'
	for v in $(sort $(PY_MINOR) $(MATRIX_PYTHONS)); do
	    py=$$(PATH='$(ORIG_PATH)' '$(ROOT)/scripts/find-python' "$$v")
	    [[ "$$(readlink "$(PYTHON_LINKS)/python$$v" || true)" == "$$py" ]] || ln -sfn "$$py" "$(PYTHON_LINKS)/python$$v"
	done

# ---------------------------------------------------------------- tests (primary .venv)
units: venv links
	@cd '$(ROOT)' && scripts/run-pytest tests/unit -- $(PYTEST_ARGS)

contract: venv links
	@cd '$(ROOT)' && scripts/run-pytest tests/emulator tests/contract -- $(PYTEST_ARGS)

integration: venv links
	@mkdir -p '$(BUILD)/pytest'
	cd '$(ROOT)' && scripts/run-pytest tests/e2e -- --basetemp='$(BUILD)/pytest/integration' $(PYTEST_ARGS)

# What `make test` runs on the primary .venv: only the PRIMARY_ONLY suites; the rest of
# tests/e2e runs on every matrix row (whose newest row has the same ansible-core).
integration-primary: venv links
	@mkdir -p '$(BUILD)/pytest'
	cd '$(ROOT)'
	echo "integration-primary: $$(ansible --version | sed -n 1p), Python $$(python -c 'import platform; print(platform.python_version())')"
	scripts/run-pytest $(PRIMARY_ONLY) -- --basetemp='$(BUILD)/pytest/integration-primary' $(PYTEST_ARGS)

# The same suites as a matrix row, on the primary .venv, with every task forced onto the module path
# (EDGEOPS_E2E_PATH=module sets edgeops_cloudflare_in_process=false for the tests' hosts): the rows run
# the in-process path, the default, so both paths run the whole suite on the primary ansible-core.
integration-module: venv links
	@mkdir -p '$(BUILD)/pytest'
	cd '$(ROOT)'
	echo "integration-module: $$(ansible --version | sed -n 1p), every task on the module path"
	EDGEOPS_E2E_PATH=module scripts/run-pytest tests/e2e -- $(ROW_INTEGRATION_ARGS) \
	    --basetemp='$(BUILD)/pytest/integration-module' $(PYTEST_ARGS)

ansible-test-bootstrap: venv
	@'$(VPY)' '$(ROOT)/scripts/ansible-test-bootstrap' --python-version '$(PY_MINOR)'

sanity: venv links
	@'$(ROOT)/scripts/run-sanity' '$(VENV)' '$(PY_MINOR)' '$(ANSIBLE_TEST_TREE)' $(SANITY_ARGS)

# ---------------------------------------------------------------- tests (matrix rows)
# Each row runs in its own venv with its own pytest process (and so its own emulator:
# the emulator is a session fixture), so rows can run at the same time.
$(ROW_UNITS): units-%: venv-% links
	@mkdir -p '$(BUILD)/pytest'
	cd '$(ROOT)'
	export PATH='$(ROOT)/.venv-$*/bin:$(PYTHON_LINKS):$(ORIG_PATH)' PYTEST_PYTHON='$(ROOT)/.venv-$*/bin/python'
	echo "units-$*: $$(ansible --version | sed -n 1p), Python $$(python -c 'import platform; print(platform.python_version())')"
	scripts/run-pytest tests/unit -- -p no:cacheprovider --basetemp='$(BUILD)/pytest/units-$*' $(PYTEST_ARGS)

$(ROW_INTEGRATION): integration-%: venv-% links
	@mkdir -p '$(BUILD)/pytest'
	cd '$(ROOT)'
	export PATH='$(ROOT)/.venv-$*/bin:$(PYTHON_LINKS):$(ORIG_PATH)' PYTEST_PYTHON='$(ROOT)/.venv-$*/bin/python'
	echo "integration-$*: $$(ansible --version | sed -n 1p), Python $$(python -c 'import platform; print(platform.python_version())')"
	echo "integration-$*: primary-only, not run here: $(PRIMARY_ONLY)"
	scripts/run-pytest tests/e2e -- $(ROW_INTEGRATION_ARGS) -p no:cacheprovider \
	    --basetemp='$(BUILD)/pytest/integration-$*' $(PYTEST_ARGS)

$(ROW_SANITY): sanity-%: venv-% links
	@export PATH='$(ROOT)/.venv-$*/bin:$(PYTHON_LINKS):$(ORIG_PATH)'
	'$(ROOT)/scripts/run-sanity' '$(ROOT)/.venv-$*' '$(call row_python,$*)' '$(call row_tree,$*)' $(SANITY_ARGS)

matrix:
	@MAKE='$(MAKE)' '$(ROOT)/scripts/run-stages' -j '$(TEST_JOBS)' $(ROW_VENVS) links :: \
	    $(ROW_INTEGRATION) $(ROW_SANITY) $(ROW_UNITS)

# ---------------------------------------------------------------- lint, docs, galaxy
check-matrix:
	@export PRIMARY_PYTHON='$(PY_MINOR)'
	'$(ROOT)/scripts/matrix' check
	'$(ROOT)/scripts/matrix' check-readme '$(ROOT)/README.md'

# All Python: every *.py of the checkout (pyproject.toml [tool.ruff]) plus the Python
# scripts under scripts/, which have no suffix.
ruff: venv-lint
	@cd '$(ROOT)'
	mapfile -t scripts < <(grep -lE '^#!.*python' scripts/* || true)
	echo "ruff $$(.venv-lint/bin/ruff --version | cut -d' ' -f2): . $${scripts[*]}"
	.venv-lint/bin/ruff check --output-format concise . "$${scripts[@]}"

# The whole collection (roles/, docs/examples/*.yml, docs/docsite/awx/, meta/, ...)
# with the production profile; .ansible-lint says what is excluded and why.
ansible-lint: venv-lint links
	@cd '$(ROOT)'
	export PATH='$(ROOT)/.venv-lint/bin:$(ORIG_PATH)'
	ansible-lint --nocolor --version | sed -n 1p
	ansible-lint --offline --profile production --nocolor

changelog: venv-lint links
	@CHANGELOG_VENV='$(ROOT)/.venv-lint' '$(ROOT)/scripts/changelog' check

changelog-release: venv-lint links
	@CHANGELOG_VENV='$(ROOT)/.venv-lint' '$(ROOT)/scripts/changelog' release $(VERSION)

lint:
	@MAKE='$(MAKE)' '$(ROOT)/scripts/run-stages' check-matrix ruff ansible-lint changelog

# scripts/build-docs belongs to the docs: it lints with antsibull-docs
# (lint-collection-docs --plugin-docs) and builds the site with sphinx-build -W.
docs: venv-docs links
	@[[ -x '$(ROOT)/scripts/build-docs' ]] || { echo "make docs: ERROR: scripts/build-docs is missing" >&2; exit 1; }
	'$(ROOT)/scripts/build-docs' --python '$(ROOT)/.venv-docs/bin/python'

galaxy-import: venv-galaxy-importer
	@'$(ROOT)/scripts/galaxy-import' '$(ROOT)/.venv-galaxy-importer'

# ---------------------------------------------------------------- make test
# Phase 1 builds every venv (plus the links and checks that need no venv); phase 2 runs
# the tests, longest first, TEST_JOBS at a time: 2 on CI's 2 cores. Stages that run
# together do not share state: each pytest process starts its own emulator, each
# ansible-test run has its own tree and its own Python, every tool its own venv.
SETUP_STAGES := setup $(ROW_VENVS) venv-lint venv-docs venv-galaxy-importer check-matrix
# Integration: the matrix rows run all of tests/e2e but the PRIMARY_ONLY suites,
# the primary .venv runs just those (integration-primary): every suite runs, none twice
# on one ansible-core. The whole suite on the primary as well (make integration) would
# add a fourth run on 2.21.5 (about 230 s of one lane on CI's 2 cores, 2026-11).
# PRIMARY_INTEGRATION=integration runs the whole suite on the primary as well.
# integration-module runs the rows' suites once more on the primary, on the module path.
PRIMARY_INTEGRATION ?= integration-primary
TEST_STAGES := $(ROW_INTEGRATION) integration-module $(ROW_SANITY) docs $(PRIMARY_INTEGRATION) galaxy-import ansible-lint \
               contract changelog units $(ROW_UNITS) ruff

# setup first, so the stage times below measure tests, not the venv build.
setup: venv links ansible-test-bootstrap

test:
	@MAKE='$(MAKE)' '$(ROOT)/scripts/run-stages' -j '$(TEST_JOBS)' $(SETUP_STAGES) :: $(TEST_STAGES)

# ---------------------------------------------------------------- demo, bench
demo: venv
	@'$(ROOT)/scripts/demo'

# bench/bench.py (docs/docsite/rst/guide_performance.rst): about 12-13 minutes on 2 cores; not part of
# make test. BENCH_ARGS="--quick" for a short smoke run. Results: .build/bench/.
bench: venv links
	@cd '$(ROOT)' && '$(VPY)' bench/bench.py $(BENCH_ARGS)

test-live: venv links
	@cd '$(ROOT)' && '$(VPY)' -m pytest tests/live -p no:cacheprovider --basetemp='$(BUILD)/pytest/live' $(PYTEST_ARGS)

test-live-sweep: venv links
	@cd '$(ROOT)' && '$(VPY)' tests/live/sweep.py $(SWEEP_ARGS)

# ---------------------------------------------------------------- clean
clean:
	@cd '$(ROOT)'
	rm -rf .venv .venv-* .build tests/output .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
