"""Repository-wide pytest setup (owned by the tooling; suites add their own conftest.py).

Makes the checkout importable as ``ansible_collections.edgeops.cloudflare`` so unit tests
can import ``ansible_collections.edgeops.cloudflare.plugins.module_utils._client`` etc.
exactly as the modules do, and exposes the paths the suites share.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_ROOT = REPO_ROOT / ".build" / "collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "edgeops" / "cloudflare"


def _ensure_collection_link() -> None:
    """Create .build/collections/ansible_collections/edgeops/cloudflare -> repo root."""
    if COLLECTION_LINK.is_symlink() and COLLECTION_LINK.resolve() == REPO_ROOT:
        return
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    tmp = COLLECTION_LINK.with_name(COLLECTION_LINK.name + f".tmp{os.getpid()}")
    tmp.symlink_to(REPO_ROOT, target_is_directory=True)
    os.replace(tmp, COLLECTION_LINK)


_ensure_collection_link()
if str(COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_ROOT))
# pyproject.toml's `pythonpath` put the directory on sys.path before it existed (fresh checkout):
# forget the import system's "nothing there" for it.
sys.path_importer_cache.pop(str(COLLECTIONS_ROOT), None)
# ansible-playbook subprocesses started by the tests find this checkout too, when the
# caller (e.g. a bare `pytest` instead of `make`) did not set it.
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS_ROOT))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Absolute path of the checkout."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def collections_path() -> Path:
    """Value for ANSIBLE_COLLECTIONS_PATH that makes this checkout edgeops.cloudflare."""
    return COLLECTIONS_ROOT
