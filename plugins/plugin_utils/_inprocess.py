# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action plugins of the collection's modules: run the module's own code in the controller's worker.

The modules only ever talk to the Cloudflare API over HTTPS, so where they run is ours to choose.
By default a task runs the module's code (the same ``argument_spec``, ``RULES`` and ``run`` as the
module file) in the worker process the controller forks for the task: no new Python, no AnsiballZ,
and one kept-alive connection and TLS context for every item of a ``loop``. The task runs the module
as usual (the "module path") when the in-process path would change what the user asked for:

- the task's connection is not local (delegated to, or targeting, another host);
- ``async``, or ``become`` (the module runs as another user, maybe with other proxies or CAs);
- the variable ``edgeops_cloudflare_in_process`` is false (the documented switch).

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import os
import threading
import urllib.request

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import Task, execute
from ansible_collections.edgeops.cloudflare.plugins.module_utils._transport import KeepAliveTransport

SWITCH = "edgeops_cloudflare_in_process"
LOCAL_CONNECTIONS = frozenset(("local", "ansible.builtin.local", "ansible.legacy.local"))

_transports = {}
_transports_lock = threading.Lock()


def proxy_settings(environ):
    """The proxies urllib would take from ``environ`` (``*_proxy`` variables, lower case winning; ``no`` for NO_PROXY)."""
    proxies = {}
    for prefer_lower in (False, True):
        for name, value in environ.items():
            if name.lower().endswith("_proxy") and value and (name.islower() == prefer_lower):
                proxies[name[:-6].lower()] = value
    return proxies


def worker_transport(environ):
    """This worker's kept-alive transport for the proxies of ``environ``.

    A worker runs one task (all its loop items), so loop items reuse connections and TLS contexts; a
    transport belongs to the process that made it (a forked child never reuses its parent's sockets),
    and tasks with other proxies get their own.
    """
    proxies = proxy_settings(environ)
    key = (os.getpid(), tuple(sorted(proxies.items())))
    with _transports_lock:
        transport = _transports.get(key)
        if transport is None:
            for stale in [k for k in _transports if k[0] != os.getpid()]:
                del _transports[stale]
            transport = _transports[key] = KeepAliveTransport(
                proxies={scheme: url for scheme, url in proxies.items() if scheme != "no"},
                bypass=lambda host: urllib.request.proxy_bypass_environment(host, proxies),
            )
    return transport


class ModuleAction(ActionBase):
    """Run ``module`` (a module file of this collection) in process, or as a module where it must be."""

    module = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        if self.module_path_reason(task_vars):
            result.update(self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        result.update(self._run_in_process(task_vars))
        return result

    def module_path_reason(self, task_vars):
        """Why this task must run the module as a module (None: it runs in the controller's worker)."""
        if not boolean(self._templar.template(task_vars.get(SWITCH, True)), strict=False):
            return f"{SWITCH} is false"
        if self._task.async_val:
            return "async"
        if self._play_context.become:
            return "become"
        if self._connection.transport not in LOCAL_CONNECTIONS:
            return f"the connection is {self._connection.transport}, not local"
        return None

    def _run_in_process(self, task_vars):
        validation = ArgumentSpecValidator(self.module.argument_spec(), **self.module.RULES).validate(
            dict(self._task.args)
        )
        no_log_values = set(validation._no_log_values)
        if validation.error_messages:
            message = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                action = self._task.resolved_action or self._task.action
                message = f"Unsupported parameters for ({action}) module: {message}"
            return self._finished({"failed": True, "msg": message}, validation, no_log_values, task_vars)
        task_environment = {}
        self._compute_environment_string(task_environment)
        environ = dict(os.environ, **task_environment)
        task = Task(
            params=validation.validated_parameters,
            check_mode=self._task.check_mode,
            diff=self._task.diff,
            no_log_values=no_log_values,
            transport=worker_transport(environ),
        )
        return self._finished(
            execute(task, self.module.run, environ, writes=self.module.WRITES),
            validation,
            task.no_log_values,
            task_vars,
        )

    def _finished(self, result, validation, no_log_values, task_vars):
        """The result as the module would return it: alias warnings, ``invocation`` where modules add it, no secret."""
        warnings = [
            "Both option {} and its alias {} are set.".format(warning["option"], warning["alias"])
            for warning in validation._warnings
        ]
        if warnings:
            result["warnings"] = result.get("warnings", []) + warnings
        if self._inject_invocation(task_vars):
            result["invocation"] = {"module_args": validation.validated_parameters}
        return remove_values(result, no_log_values)

    @staticmethod
    def _inject_invocation(task_vars):
        try:
            return C.config.get_config_value("INJECT_INVOCATION", variables=task_vars)
        except AnsibleError:  # before ansible-core 2.21 there is no such setting: modules always add it
            return True
