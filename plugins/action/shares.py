# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs the shares module's code in the controller's worker, or the module itself where it must (plugin_utils/_inprocess.py)."""

from __future__ import annotations

from ansible_collections.edgeops.cloudflare.plugins.modules import shares as module
from ansible_collections.edgeops.cloudflare.plugins.plugin_utils._inprocess import ModuleAction


class ActionModule(ModuleAction):
    module = module
