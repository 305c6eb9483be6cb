"""The emulator fixtures (tests/emulator/fixtures.py) for these tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Imported for pytest, which finds fixtures by their names in this module.
from fixtures import clean_emulator, emulator  # noqa: E402,F401  # pylint: disable=unused-import
