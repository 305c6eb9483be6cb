"""The emulator fixtures (tests/emulator/fixtures.py), loaded as a pytest plugin."""

pytest_plugins = ["ansible_collections.edgeops.cloudflare.tests.emulator.fixtures"]
