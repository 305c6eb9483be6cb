"""Fixtures for end-to-end tests: the emulator and a runner of real ansible processes."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from fixtures import clean_emulator, emulator  # noqa: E402,F401  # pylint: disable=unused-import
from runner import AnsibleRunner  # noqa: E402


@pytest.fixture
def runner(tmp_path, clean_emulator, collections_path):  # noqa: F811
    """Runs ansible processes against the emulator, which is reset before each test.

    Afterwards, the emulator's request log is scanned for every secret the test used.
    """
    ansible = AnsibleRunner(tmp_path, clean_emulator, collections_path)
    yield ansible
    ansible.assert_no_secret_in(json.dumps(clean_emulator.requests_log()), "the emulator's request log")
