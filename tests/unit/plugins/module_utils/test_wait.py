"""The wait schedule, exactly as the documentation says it: a check at once, then waits of 0.5, 1, 2, 4, then 5 s."""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.plugins.module_utils._wait import WaitFailed, wait_until


def test_checks_at_once_then_after_waits_of_half_a_second_doubling_to_five():
    now = [0.0]
    checks = []

    def check():
        checks.append(now[0])
        return len(checks) == 8, None

    wait_until(check, 600, str, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert checks == [0.0, 0.5, 1.5, 3.5, 7.5, 12.5, 17.5, 22.5]


def test_the_timeout_bounds_the_last_wait():
    now = [0.0]
    with pytest.raises(WaitFailed, match="gave up after wait_timeout=4 s: pending"):
        wait_until(
            lambda: (False, "x"),
            4,
            lambda value: "pending",
            clock=lambda: now[0],
            sleep=lambda s: now.__setitem__(0, now[0] + s),
        )
    assert now[0] == 4
