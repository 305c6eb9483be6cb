"""Pytest plugin of the end-to-end suites: ``runner``, real ansible processes against a clean emulator."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import AnsibleRunner


@pytest.fixture
def runner(tmp_path, clean_emulator, collections_path):
    """Runs ansible processes against the emulator, which is reset before each test.

    Afterwards, the emulator's request log is scanned for every secret the test used.
    """
    ansible = AnsibleRunner(tmp_path, clean_emulator, collections_path)
    yield ansible
    ansible.assert_no_secret_in(json.dumps(clean_emulator.requests_log()), "the emulator's request log")
