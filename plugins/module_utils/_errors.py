# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Errors shared by the collection's helpers. Private: the interface may change without notice."""

from __future__ import annotations


class InputError(Exception):
    """Bad or contradictory module input, found before any write (and, where possible, before any request)."""


class CloudflareError(Exception):
    """An API call that failed; ``str()`` is the readable message for ``msg``."""

    def __init__(self, message, status=None, codes=()):
        super().__init__(message)
        self.status = status
        self.codes = tuple(codes)


class Interrupted(CloudflareError):
    """The run was stopped (a signal, or the controller process went away) before this request was sent."""
