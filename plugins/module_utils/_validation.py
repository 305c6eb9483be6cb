# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input rules, in one place: identifiers, names, header values, URLs. Pure: no I/O, no Ansible imports.

Every check takes the *label* of what it checks (an option such as ``recipients[2].account_id``, or an
environment variable) and raises ``InputError`` naming it. Used by the planner, the shared option
handling and the bulk engine alike.

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import re

from urllib.parse import urlsplit

from ._errors import InputError

HEX_ID = re.compile(r"\A[0-9a-f]{32}\Z")
MAX_NAME_LENGTH = 255
DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
API_ROOT_PATH = "/client/v4"


def check_hex_id(label, value):
    """``value`` when it is a 32-character lowercase hexadecimal identifier, else an InputError naming ``label``."""
    if not isinstance(value, str) or not HEX_ID.match(value):
        raise InputError(f"{label} must be a 32-character lowercase hexadecimal Cloudflare identifier, got {value!r}")
    return value


def optional_hex_id(params, option):
    """The option's value checked as a hex id, or None when the task does not set it (an empty string is an error)."""
    return None if params.get(option) is None else check_hex_id(option, params[option])


def _is_control(char):
    return ord(char) < 32 or 127 <= ord(char) < 160


def check_share_name(label, name):
    """A share name the API will take as it is: no control characters, no outer whitespace, 1-255 characters."""
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{label} must not be empty or only whitespace.")
    if name != name.strip():
        raise InputError(
            f"{label} must not start or end with whitespace (got {name!r}): the API would store another name "
            "than the one this task looks up."
        )
    if any(_is_control(char) for char in name):
        raise InputError(f"{label} must not contain control characters (got {name!r}).")
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"{label} is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed.")
    return name


def check_header_value(label, value):
    """A credential sent in an HTTP header: printable ASCII without spaces. The value is never echoed."""
    if any(not 33 <= ord(char) <= 126 for char in value):
        raise InputError(
            f"{label} holds a character that cannot be sent in an HTTP header (a line break or another control "
            "character, a space inside it, or a non-ASCII character); its value is not shown. Check for a "
            "pasted line break or stray character."
        )
    return value


def check_base_url(label, value):
    """The API root as an http(s) URL whose path is /client/v4; returned without a trailing slash."""
    if any(_is_control(char) or char.isspace() for char in value):
        raise InputError(
            f"{label} must be a URL without spaces or control characters, such as {DEFAULT_BASE_URL}; got {value!r}"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"{label} must be an http:// or https:// URL of the API root, such as {DEFAULT_BASE_URL}; got {value!r}"
        )
    if parts.path.rstrip("/") != API_ROOT_PATH or parts.query or parts.fragment:
        raise InputError(
            f"{label} must point at the API root (path {API_ROOT_PATH}, no query), such as {DEFAULT_BASE_URL}; got {value!r}"
        )
    return value.rstrip("/")


def check_positive(label, value):
    if value is None or value <= 0:
        raise InputError(f"{label} must be a positive number of seconds, got {value}")
    return value


def check_not_negative(label, value):
    if value is None or value < 0:
        raise InputError(f"{label} must be 0 or more, got {value}")
    return value


def check_wait_timeout(params, prefix=""):
    if params.get("wait"):
        check_positive(prefix + "wait_timeout", params.get("wait_timeout"))
