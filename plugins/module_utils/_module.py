# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Options every module shares: argument spec, credential resolution, validation, client.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import os

from ._client import CloudflareClient, RetryPolicy
from ._errors import CloudflareError, InputError
from ._guard import RunGuard, marker_key
from ._model import RESOURCE_TYPES
from ._transport import KeepAliveTransport
from ._validation import (
    DEFAULT_BASE_URL,
    check_base_url,
    check_header_value,
    check_hex_id,
    check_not_negative,
    check_positive,
)

TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
EMAIL_ENV = "CLOUDFLARE_EMAIL"
KEY_ENV = "CLOUDFLARE_API_KEY"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"
BASE_URL_ENV = "CLOUDFLARE_BASE_URL"
CREDENTIAL_OPTIONS = (("api_token", TOKEN_ENV), ("api_email", EMAIL_ENV), ("api_key", KEY_ENV))
# Seconds an interrupted run may still need after its last request was sent, on top of ``timeout``.
FINISH_MARGIN = 5


def common_argument_spec():
    """The options every module of the collection has (documented in the ``edgeops.cloudflare.api`` fragment).

    The ``CLOUDFLARE_*`` environment variables are read by ``resolve_connection``, not by argspec
    fallbacks, so that an empty variable counts as unset and a message can name the variable a
    value came from.
    """
    return dict(
        api_token=dict(type="str", no_log=True),
        api_email=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        account_id=dict(type="str"),
        base_url=dict(type="str"),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=4),
        max_retry_wait=dict(type="int", default=60),
    )


def share_options():
    """The options of one share: the ``share`` module's own options, and the items of ``shares``."""
    return dict(
        name=dict(type="str"),
        share_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        recipients=dict(
            type="list",
            elements="dict",
            options=dict(
                account_id=dict(type="str", aliases=["recipient_account_id"]),
                organization_id=dict(type="str"),
            ),
        ),
        purge_recipients=dict(type="bool", default=True),
        resources=dict(
            type="list",
            elements="dict",
            options=dict(
                resource_id=dict(type="str", required=True),
                resource_type=dict(type="str", required=True, choices=list(RESOURCE_TYPES)),
                resource_account_id=dict(type="str"),
                meta=dict(type="dict"),
            ),
        ),
        purge_resources=dict(type="bool", default=True),
        excluded_recipients=dict(type="list", elements="str"),
        purge_excluded_recipients=dict(type="bool", default=True),
        allow_duplicate_name=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )


SHARE_RULES = dict(required_one_of=[("name", "share_id")])


def share_part_argument_spec():
    """Options of the modules that manage one part of a share (documented in ``edgeops.cloudflare.api.share_part``)."""
    spec = common_argument_spec()
    spec.update(
        share_id=dict(type="str"),
        share_name=dict(type="str"),
    )
    return spec


SHARE_PART_RULES = dict(mutually_exclusive=[("share_id", "share_name")], required_one_of=[("share_id", "share_name")])


def environment_value(environ, variable):
    """The variable's value; an empty or blank one counts as not set (as for every CLOUDFLARE_* variable)."""
    value = environ.get(variable)
    return value if value is not None and value.strip() else None


def _from_variable(variable, option):
    return f"{variable} (the environment variable used for {option})"


def _setting(params, environ, option, variable):
    """(value, label) of a connection option: the task's value, else the variable's; (None, None) when neither.

    An empty task value is an error rather than "not set": it would otherwise fall back to an
    environment variable that may point at another account.
    """
    value = params.get(option)
    if value is not None:
        if not value.strip():
            raise InputError(
                f"{option} is empty: give a value, or leave the option out to use the {variable} environment variable."
            )
        return value, option
    value = environment_value(environ, variable)
    return (value, _from_variable(variable, option)) if value is not None else (None, None)


def _credentials(params, environ):
    """{option: (value, label)} of the credentials in use: the task's, or else (as a whole) the environment's."""
    given = {option: params.get(option) for option, _variable in CREDENTIAL_OPTIONS if params.get(option) is not None}
    for option, value in given.items():
        if not value.strip():
            raise InputError(f"{option} is empty: give a value, or leave the option out.")
    if given:
        return {option: (value.strip(), option) for option, value in given.items()}
    found = {}
    for option, variable in CREDENTIAL_OPTIONS:
        value = environment_value(environ, variable)
        if value is not None:
            found[option] = (value.strip(), variable)
    if "api_token" in found and "api_key" not in found:
        found.pop("api_email", None)  # CLOUDFLARE_EMAIL is commonly set for other tools; only the key makes it a scheme
    return found


def resolve_auth_headers(params, environ):
    """Pick exactly one auth scheme, from the task's options or else from the environment.

    Options win as a whole: a task that sets any credential option ignores the
    credential environment variables, so a machine-wide CLOUDFLARE_API_TOKEN never
    collides with a task that uses the legacy key.
    """
    found = _credentials(params, environ)
    from_task = any(label in dict(CREDENTIAL_OPTIONS) for _value, label in found.values())
    names = (
        dict(CREDENTIAL_OPTIONS) if not from_task and found else {option: option for option, _v in CREDENTIAL_OPTIONS}
    )
    for value, label in found.values():
        check_header_value(label, value)
    token, email, key = (found.get(option, (None, None))[0] for option in ("api_token", "api_email", "api_key"))
    if token and (email or key):
        raise InputError(
            "Use one auth scheme: {} alone, or {} with {}; both are set. Remove one of them.".format(
                names["api_token"], names["api_email"], names["api_key"]
            )
        )
    if token:
        return {"Authorization": "Bearer " + token}
    if email and key:
        return {"X-Auth-Email": email, "X-Auth-Key": key}
    if email or key:
        raise InputError(
            "{} and {} go together (Cloudflare's legacy Global API key scheme): set both, or use {} instead.".format(
                names["api_email"], names["api_key"], names["api_token"]
            )
        )
    raise InputError(
        f"No Cloudflare credentials: set api_token (or the {TOKEN_ENV} environment variable), or api_email with "
        f"api_key (or {EMAIL_ENV} with {KEY_ENV})."
    )


def secret_values(headers):
    """The credential values inside auth headers, to hide from every output."""
    return [value.replace("Bearer ", "", 1) for header, value in headers.items() if header != "X-Auth-Email"]


class Connection:
    """A task's resolved connection settings: the API root, credentials, account, and how to send requests."""

    def __init__(self, params, environ):
        self.auth_headers = resolve_auth_headers(params, environ)
        base_url, label = _setting(params, environ, "base_url", BASE_URL_ENV)
        self.base_url = DEFAULT_BASE_URL if base_url is None else check_base_url(label, base_url)
        account_id, label = _setting(params, environ, "account_id", ACCOUNT_ENV)
        self.account_id = None if account_id is None else check_hex_id(label, account_id)
        self.timeout = check_positive("timeout", params["timeout"])
        self.validate_certs = params["validate_certs"]
        self.ca_path = params["ca_path"]
        if self.ca_path and not os.path.isfile(self.ca_path):
            raise InputError(f"ca_path must be a readable PEM file of CA certificates; {self.ca_path} is not a file")
        self.retry_policy = RetryPolicy(
            max_retries=check_not_negative("max_retries", params["max_retries"]),
            max_total_wait=check_not_negative("max_retry_wait", params["max_retry_wait"]),
        )

    def require_account(self):
        if self.account_id is None:
            raise InputError(
                f"account_id is required: set the account_id option or the {ACCOUNT_ENV} environment variable."
            )
        return self.account_id

    @property
    def marker_key(self):
        return marker_key(self.base_url, self.account_id or "")

    def client(self, guard=None, transport=None):
        """A client for these settings; ``transport``: a kept-alive one (see ``_transport``), else open_url."""
        return CloudflareClient(
            self.base_url,
            self.auth_headers,
            timeout=self.timeout,
            validate_certs=self.validate_certs,
            ca_path=self.ca_path,
            retry_policy=self.retry_policy,
            guard=guard,
            **({} if transport is None else {"transport": transport}),
        )


class Task:
    """What an operation needs of its task: the validated ``params``, ``check_mode`` and ``diff``.

    ``no_log_values``: the values no output may show; the connection's credentials are added to it.
    ``transport``: the HTTP transport of the single-share modules: the controller's worker passes its kept-alive
    one, the module path (``run_module``) one for the task; None means ansible-core's open_url.
    """

    def __init__(self, *, params, check_mode, diff, no_log_values, transport=None):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.no_log_values = no_log_values
        self.transport = transport

    def client(self, connection, guard):
        return connection.client(guard=guard, transport=self.transport)


def execute(task, operation, environ, writes=True):
    """Resolve the connection, guard the run, and return ``operation(task, connection, guard)``'s result.

    Our errors become a failed result (``failed``, ``msg``, and Cloudflare's HTTP ``status`` and
    ``error_codes``). ``writes``: wait first for an interrupted earlier run of the same account that
    may still have a write in flight (see ``_guard``). The guard works alike in a module process and in
    the controller's worker: a signal or the loss of the parent stops the requests; those in flight finish.
    """
    try:
        connection = Connection(task.params, environ)
        task.no_log_values.update(secret_values(connection.auth_headers))
        guard = RunGuard(
            connection.marker_key if writes else None, max_finish_seconds=connection.timeout + FINISH_MARGIN
        )
        with guard.install():
            guard.wait_for_interrupted_runs()
            result = operation(task, connection, guard)
    except InputError as error:
        return {"failed": True, "msg": str(error)}
    except CloudflareError as error:
        failure = dict(getattr(error, "result", None) or {})
        failure.update(failed=True, msg=str(error), status=error.status, error_codes=list(error.codes))
        return failure
    return result


def run_module(module, operation, writes=True):
    """The module path: run ``operation`` on the AnsibleModule's task, then exit or fail with its result.

    The task's requests share one kept-alive connection and TLS context, as in the controller's worker.
    """
    with KeepAliveTransport() as transport:
        task = Task(
            params=module.params,
            check_mode=module.check_mode,
            diff=module._diff,
            no_log_values=module.no_log_values,
            transport=transport,
        )
        result = execute(task, operation, os.environ, writes=writes)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
