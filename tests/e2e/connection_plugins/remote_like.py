# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only connection: runs commands on this machine like ``local``, but is not ``local`` (a remote host's stand-in)."""

from __future__ import annotations

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = """
name: remote_like
short_description: A local connection that calls itself remote (tests only)
description:
  - Executes on the controller like ansible.builtin.local, with another transport name, so that a task looks
    as if it targeted a remote host.
author: edgeops.cloudflare maintainers (@edgeops)
options: {}
"""


class Connection(LocalConnection):
    transport = "remote_like"
