"""Pytest fixtures for the emulator: one server per test run, reset per test.

A suite's conftest.py puts tests/emulator on sys.path and imports both fixtures
(see tests/emulator/conftest.py). Each importing conftest makes its own copy of
the session fixture, so the first one started keeps the emulator in the run's
stash and the others reuse it: one process for every suite of a run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import Emulator

RUNNING_EMULATOR = pytest.StashKey[Emulator]()


@pytest.fixture(scope="session")
def emulator(pytestconfig: pytest.Config) -> Iterator[Emulator]:
    """The running emulator, started once per run; its state is whatever tests left."""
    stash = pytestconfig.stash
    if RUNNING_EMULATOR in stash:
        yield stash[RUNNING_EMULATOR]
        return
    with Emulator() as running:
        stash[RUNNING_EMULATOR] = running
        try:
            yield running
        finally:
            del stash[RUNNING_EMULATOR]


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Emulator:
    """The run's emulator, reset (state, log, faults, config) before the test."""
    emulator.reset()
    return emulator
