"""Pytest plugin: one emulator per test run (``emulator``), reset before each test that asks (``clean_emulator``).

Suites load it with ``pytest_plugins`` in their conftest.py (see tests/e2e/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The running emulator, started once per run; its state is whatever tests left."""
    with Emulator() as running:
        yield running


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Emulator:
    """The run's emulator, reset (state, log, faults, config) before the test."""
    emulator.reset()
    return emulator
