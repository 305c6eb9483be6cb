"""Start tests/emulator/server.py with a listen backlog fit for concurrent clients.

socketserver's default backlog is 5: when more than 5 new connections arrive at once
(16 bulk workers opening their kept-alive connections), the kernel drops the extra SYNs
and those clients retry after 1 s, which the bench would report as the module's time.
Real API endpoints do not do that, so the bench raises the backlog here, without
touching the emulator (a no-op once server.py sets a larger one itself).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "emulator"))

import server  # noqa: E402

BACKLOG = 128

if server.EmulatorServer.request_queue_size < BACKLOG:
    server.EmulatorServer.request_queue_size = BACKLOG

if __name__ == "__main__":
    sys.exit(server.main())
