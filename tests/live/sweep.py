"""Delete what earlier live runs left behind: the account's active sent shares whose name starts with ``edgeops-live-``.

    CLOUDFLARE_LIVE_TESTS=1 CLOUDFLARE_API_TOKEN=... CLOUDFLARE_ACCOUNT_ID=... python tests/live/sweep.py [--dry-run]

Lists them, then deletes them (nothing interactive); ``--dry-run`` lists only. A share whose name does not start
with ``edgeops-live-``, a received share and a share already being deleted are never touched. Exit status: 0 when
nothing is left, 1 when some share could not be deleted (or listed), 2 when a setting is missing (nothing is
sent then). Standard library only. See tests/live/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kit  # tests/live/kit.py, found through the line above


def main(argv=None, environ=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dry-run", action="store_true", help="list the shares that would be deleted, delete nothing")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="seconds the whole sweep may take (listing and deleting); default 300",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.time_limit <= 3600:
        parser.error("--time-limit must be from 1 to 3600 seconds")
    settings, problems = kit.read_settings(os.environ if environ is None else environ, scenario=False)
    if problems:
        print(kit.refusal(problems, "live sweep"), file=sys.stderr)
        return 2
    print(f"live sweep: account {settings.account_id} at {settings.base_url} ({settings.auth_scheme})")
    report = kit.delete_prefixed(settings, kit.PREFIX_ROOT, dry_run=args.dry_run, time_limit=args.time_limit)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
