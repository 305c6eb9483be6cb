# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Options every module shares: argument spec, credential resolution, validation, client.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import os
import re

from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ._client import CloudflareClient, RetryPolicy
from ._errors import CloudflareError, InputError
from ._planner import RESOURCE_TYPES

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
API_ROOT_PATH = "/client/v4"
HEX_ID = re.compile(r"\A[0-9a-f]{32}\Z")

TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
EMAIL_ENV = "CLOUDFLARE_EMAIL"
KEY_ENV = "CLOUDFLARE_API_KEY"


def common_argument_spec():
    """The options every module of the collection has (documented in the ``edgeops.cloudflare.api`` fragment)."""
    return dict(
        api_token=dict(type="str", no_log=True),
        api_email=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        account_id=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_ACCOUNT_ID"])),
        base_url=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_BASE_URL"]), default=DEFAULT_BASE_URL),
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
            type="list", elements="dict",
            options=dict(
                account_id=dict(type="str", aliases=["recipient_account_id"]),
                organization_id=dict(type="str"),
            ),
        ),
        purge_recipients=dict(type="bool", default=True),
        resources=dict(
            type="list", elements="dict",
            options=dict(
                resource_id=dict(type="str", required=True),
                resource_type=dict(type="str", required=True, choices=list(RESOURCE_TYPES)),
                resource_account_id=dict(type="str"),
                meta=dict(type="raw", default={}),
            ),
        ),
        purge_resources=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )


def share_part_argument_spec():
    """Options of the modules that manage one part of a share (documented in ``edgeops.cloudflare.api.share_part``)."""
    spec = common_argument_spec()
    spec.update(
        share_id=dict(type="str"),
        share_name=dict(type="str"),
    )
    return spec


SHARE_PART_RULES = dict(mutually_exclusive=[("share_id", "share_name")], required_one_of=[("share_id", "share_name")])


def check_wait_timeout(params):
    if params.get("wait") and params["wait_timeout"] <= 0:
        raise InputError("wait_timeout must be a positive number of seconds, got %s" % params["wait_timeout"])


def check_hex_id(option, value):
    """Fail unless ``value`` is a 32-character lowercase hex identifier."""
    if not isinstance(value, str) or not HEX_ID.match(value):
        raise InputError(
            "%s must be a 32-character lowercase hexadecimal Cloudflare identifier, got %r"
            % (option, value))
    return value


def optional_hex_id(params, option):
    """The option's value checked as a hex id, or None when the task does not set it (an empty string is an error)."""
    return None if params.get(option) is None else check_hex_id(option, params[option])


def _clean(value):
    value = value.strip() if isinstance(value, str) else value
    return value or None


def resolve_auth_headers(params, environ):
    """Pick exactly one auth scheme, from the task's options or else from the environment.

    Options win as a whole: a task that sets any credential option ignores the
    credential environment variables, so a machine-wide CLOUDFLARE_API_TOKEN never
    collides with a task that uses the legacy key.
    """
    token, email, key = (_clean(params.get(name)) for name in ("api_token", "api_email", "api_key"))
    names = ("api_token", "api_email", "api_key")
    if not (token or email or key):
        token, email, key = (_clean(environ.get(name)) for name in (TOKEN_ENV, EMAIL_ENV, KEY_ENV))
        names = (TOKEN_ENV, EMAIL_ENV, KEY_ENV)
        if token and not key:
            email = None  # CLOUDFLARE_EMAIL is commonly set for other tools; only the key makes it a scheme
    token_name, email_name, key_name = names
    if token and (email or key):
        raise InputError(
            "Use one auth scheme: %s alone, or %s with %s; both are set. Remove one of them."
            % (token_name, email_name, key_name))
    if token:
        return {"Authorization": "Bearer " + token}
    if email and key:
        return {"X-Auth-Email": email, "X-Auth-Key": key}
    if email or key:
        raise InputError(
            "%s and %s go together (Cloudflare's legacy Global API key scheme): set both, or use %s instead."
            % (email_name, key_name, token_name))
    raise InputError(
        "No Cloudflare credentials: set api_token (or the %s environment variable), or api_email with "
        "api_key (or %s with %s)." % (TOKEN_ENV, EMAIL_ENV, KEY_ENV))


def check_base_url(value):
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            "base_url must be an http:// or https:// URL of the API root, such as %s; got %r"
            % (DEFAULT_BASE_URL, value))
    if parts.path.rstrip("/") != API_ROOT_PATH or parts.query or parts.fragment:
        raise InputError(
            "base_url must point at the API root (path %s, no query), such as %s; got %r"
            % (API_ROOT_PATH, DEFAULT_BASE_URL, value))
    return value.rstrip("/")


def require_account_id(params):
    if not params.get("account_id"):
        raise InputError("account_id is required: set the account_id option or the CLOUDFLARE_ACCOUNT_ID environment variable.")
    return check_hex_id("account_id", params["account_id"])


def build_client(module, environ=None, transport=None):
    """Validate the shared options and return a client; raises InputError before any request.

    ``transport``: the client's transport when not the default (open_url); the bulk module passes a keep-alive one.
    """
    params = module.params
    headers = resolve_auth_headers(params, os.environ if environ is None else environ)
    for header, value in headers.items():
        if header != "X-Auth-Email":
            module.no_log_values.add(value.replace("Bearer ", "", 1))
    if params["timeout"] <= 0:
        raise InputError("timeout must be a positive number of seconds, got %s" % params["timeout"])
    for option in ("max_retries", "max_retry_wait"):
        if params[option] < 0:
            raise InputError("%s must be 0 or more, got %s" % (option, params[option]))
    if params["ca_path"] and not os.path.isfile(params["ca_path"]):
        raise InputError("ca_path must be a readable PEM file of CA certificates; %s is not a file" % params["ca_path"])
    return CloudflareClient(
        check_base_url(params["base_url"]), headers,
        timeout=params["timeout"], validate_certs=params["validate_certs"], ca_path=params["ca_path"],
        retry_policy=RetryPolicy(max_retries=params["max_retries"], max_total_wait=params["max_retry_wait"]),
        **({} if transport is None else {"transport": transport})
    )


def run_module(module, operation):
    """Run ``operation(module)`` and turn our errors into ``fail_json``; ``operation`` returns the result dict."""
    try:
        result = operation(module)
    except InputError as error:
        module.fail_json(msg=str(error))
    except CloudflareError as error:
        module.fail_json(msg=str(error), **getattr(error, "result", {}))
    module.exit_json(**result)
