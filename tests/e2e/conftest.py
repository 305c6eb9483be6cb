"""The end-to-end suites' fixtures, loaded as pytest plugins."""

pytest_plugins = [
    "ansible_collections.edgeops.cloudflare.tests.emulator.fixtures",
    "ansible_collections.edgeops.cloudflare.tests.e2e.fixtures",
]
