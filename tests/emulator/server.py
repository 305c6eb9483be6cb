"""Emulator of the Cloudflare Resource Sharing API (v4), for tests and demos.

Serves every Resource Sharing endpoint under ``/client/v4`` with Cloudflare's
envelope, authentication, pagination, validation and asynchronous status
transitions, plus an unauthenticated admin API under ``/__admin`` (state,
seeding, faults, latency, rate limit, request log). ``CONTRACT.md`` beside this
file is the reference for its behaviour. Standard library only, Python >= 3.11.

    python tests/emulator/server.py --port 0 --port-file /tmp/port
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/client/v4"
ADMIN_PREFIX = "/__admin"

DEFAULT_TOKEN = "emulator-token"
# A token with the account's Resource Sharing Read permission only: every write answers 403 / 10000.
DEFAULT_READ_TOKEN = "emulator-read-token"
DEFAULT_EMAIL = "demo@example.com"
DEFAULT_KEY = "emulator-global-key"

# The world: fixed accounts and organizations (CONTRACT.md, "The world").
MAIN_ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
MAIN_ORG = "5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1"
MEMBER_ACCOUNTS = (
    "1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10",
    "2c7a1f5b0d3e4f9a9b8c7d6e5f4a3b21",
    "3d8b2a6c1e4f4a0bac9d8e7f6a5b4c32",
)
FOREIGN_ACCOUNT = "9e1d4c7b2a5f4e8d8c3b6a9f2e5d8c41"
FOREIGN_ORG = "8f2e5d8c1b4a4f7e9d2c5b8a1f4e7d30"
ORGANIZATION_MEMBERS = {
    MAIN_ORG: (MAIN_ACCOUNT, *MEMBER_ACCOUNTS),
    FOREIGN_ORG: (FOREIGN_ACCOUNT,),
}
ACCOUNT_NAMES = {
    MAIN_ACCOUNT: "Account A",
    MEMBER_ACCOUNTS[0]: "Account B",
    MEMBER_ACCOUNTS[1]: "Account C",
    MEMBER_ACCOUNTS[2]: "Account D",
    FOREIGN_ACCOUNT: "Foreign Account",
}

RESOURCE_TYPES = (
    "custom-ruleset",
    "gateway-policy",
    "gateway-destination-ip",
    "gateway-block-page-settings",
    "gateway-extended-email-matching",
    "idp-federation-grant",
    "trust-grant",
)
SHARE_STATUSES = ("active", "deleting", "deleted")
SHARE_KINDS = ("sent", "received")
TARGET_TYPES = ("account", "organization")
RECIPIENT_STATUSES = ("associating", "associated", "disassociating", "disassociated")
LIVE_RECIPIENT_STATUSES = ("associating", "associated")
SETTLED_STATUS = {"associating": "associated", "disassociating": "disassociated", "deleting": "deleted"}

HEX_ID = re.compile(r"[0-9a-f]{32}")
UUID_OR_HEX = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_NAME_LENGTH = 255
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20

DEPRECATED_ALIAS_WARNING = {"code": 1100, "message": "account_id is deprecated, use recipient_account_id"}


# --- The world ------------------------------------------------------------------------


def organization_of(account_id: str) -> str:
    return FOREIGN_ORG if account_id == FOREIGN_ACCOUNT else MAIN_ORG


def account_name(account_id: str) -> str:
    return ACCOUNT_NAMES.get(account_id, f"Account {account_id[:8]}")


def organization_recipient_accounts(owner_account_id: str) -> list[str]:
    """Accounts that receive an organization-targeted share created by the owner.

    UNVERIFIED CHOICE: no public source says how Cloudflare materialises the
    recipients of an organization-targeted share. The emulator creates one
    recipient record per registered member account of the owner's organization,
    the owner excluded, each starting `associating` like any new recipient. This
    function is the only place that decides it.
    """
    members = ORGANIZATION_MEMBERS.get(organization_of(owner_account_id), ())
    return [account for account in members if account != owner_account_id]


def new_id() -> str:
    return uuid.uuid4().hex


class Clock:
    """RFC 3339 UTC timestamps that strictly increase, so `created` orders records."""

    def __init__(self) -> None:
        self._last = datetime.fromtimestamp(0, UTC)

    def timestamp(self) -> str:
        self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        return self._last.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Moment:
    """When a write happens: its timestamp, and when the transitions it starts settle."""

    stamp: str
    settles_at: float


# --- Records --------------------------------------------------------------------------


@dataclass(kw_only=True)
class Record:
    """Identity, timestamps and the asynchronous status lifecycle of every record."""

    id: str
    status: str
    created: str
    modified: str
    # time.monotonic() deadline of a transitional status; math.inf waits for /__admin/advance.
    settles_at: float | None = None

    def begin(self, transitional_status: str, moment: Moment) -> None:
        self.status = transitional_status
        self.modified = moment.stamp
        self.settles_at = moment.settles_at

    def settle(self, now: float) -> bool:
        """Completes the pending transition if it is due; True when the status changed."""
        if self.settles_at is None or self.settles_at > now:
            return False
        self.status = SETTLED_STATUS[self.status]
        self.settles_at = None
        return True


@dataclass(frozen=True)
class Rendering:
    """How answers echo a share resource (config `empty_meta_echo`, `meta_key_order`); see CONTRACT.md."""

    empty_meta: str = "object"
    reverse_meta_keys: bool = False


STORED = Rendering()


@dataclass(kw_only=True)
class Recipient(Record):
    account_id: str
    # Association errors by resource_id: (message, terminal). While any is set, `associating` does not settle.
    errors: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_RECIPIENT_STATUSES

    def settle(self, now: float) -> bool:
        if self.errors and self.status == "associating":
            return False
        return super().settle(now)

    def to_json(self, association_report: list[dict] | None = None) -> dict:
        data = {
            "id": self.id,
            "account_id": self.account_id,
            "association_status": self.status,
            "created": self.created,
            "modified": self.modified,
        }
        if association_report is not None:
            data["resources"] = association_report
        return data


@dataclass(kw_only=True)
class ShareResource(Record):
    resource_id: str
    resource_account_id: str
    resource_type: str
    meta: object
    resource_version: int = 0

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.resource_type, self.resource_account_id, self.resource_id)

    def update_meta(self, meta: object, moment: Moment) -> None:
        self.meta = meta
        self.resource_version += 1
        self.modified = moment.stamp

    def to_json(self, rendering: Rendering = STORED) -> dict:
        data = {
            "id": self.id,
            "resource_id": self.resource_id,
            "resource_account_id": self.resource_account_id,
            "resource_type": self.resource_type,
            "resource_version": self.resource_version,
            "meta": self.meta,
            "status": self.status,
            "created": self.created,
            "modified": self.modified,
        }
        if self.meta == {} and rendering.empty_meta != "object":
            if rendering.empty_meta == "null":
                data["meta"] = None
            else:
                del data["meta"]
        elif isinstance(self.meta, dict) and rendering.reverse_meta_keys:
            data["meta"] = dict(reversed(list(self.meta.items())))
        return data

    def association_json(self, recipient: Recipient) -> dict:
        message, terminal = recipient.errors.get(self.resource_id, ("", False))
        return {
            "resource_id": self.resource_id,
            "resource_version": self.resource_version,
            "error": message,
            "terminal": terminal,
        }


@dataclass(kw_only=True)
class ExcludedRecipient:
    """An account left out of an organization-targeted share (no status: it is excluded, or it is not listed)."""

    id: str
    account_id: str
    created: str
    modified: str

    def to_json(self) -> dict:
        return {"id": self.id, "account_id": self.account_id, "created": self.created, "modified": self.modified}


@dataclass(kw_only=True)
class Share(Record):
    account_id: str
    name: str
    target_type: str
    recipients: list[Recipient] = field(default_factory=list)
    resources: list[ShareResource] = field(default_factory=list)
    excluded: list[ExcludedRecipient] = field(default_factory=list)

    def records(self) -> Iterator[Record]:
        yield self
        yield from self.recipients
        yield from self.resources

    def kind_for(self, viewer: str | None) -> str:
        """`sent` for the owner, `received` for a recipient; viewer None is the organization view."""
        return "sent" if viewer in (None, self.account_id) else "received"

    def is_received_by(self, account_id: str) -> bool:
        recipient = self.recipient_for(account_id)
        return recipient is not None and recipient.status != "disassociated"

    def recipient_for(self, account_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.account_id == account_id), None)

    def find_recipient(self, recipient_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.id == recipient_id), None)

    def find_resource(self, share_resource_id: str) -> ShareResource | None:
        return next((r for r in self.resources if r.id == share_resource_id), None)

    def has_active_resource(self, identity: tuple[str, str, str]) -> bool:
        return any(r.status == "active" and r.identity == identity for r in self.resources)

    def has_resource_type(self, resource_types: list[str]) -> bool:
        return any(r.status != "deleted" and r.resource_type in resource_types for r in self.resources)

    def association_report(self, recipient: Recipient) -> list[dict]:
        return [r.association_json(recipient) for r in self.resources if r.status != "deleted"]

    def find_excluded(self, excluded_id: str) -> ExcludedRecipient | None:
        return next((e for e in self.excluded if e.id == excluded_id), None)

    def reconcile_organization(self, moment: Moment) -> None:
        """An organization share's recipients: every member account of the owner's organization but the excluded.

        UNVERIFIED CHOICE (the reconciliation is Cloudflare's background job): it runs at once here; an
        excluded account's recipient starts disassociating, a no-longer-excluded one associating.
        """
        excluded = {e.account_id for e in self.excluded}
        for account in organization_recipient_accounts(self.account_id):
            recipient = self.recipient_for(account)
            if account in excluded and recipient is not None and recipient.is_live:
                recipient.begin("disassociating", moment)
            elif account not in excluded and (recipient is None or not recipient.is_live):
                self.associate(account, moment)

    def associate(self, account_id: str, moment: Moment) -> Recipient:
        """Makes the account a recipient again, reusing its record when it was removed."""
        recipient = self.recipient_for(account_id)
        if recipient is None:
            recipient = Recipient(
                id=new_id(),
                account_id=account_id,
                status="associating",
                created=moment.stamp,
                modified=moment.stamp,
                settles_at=moment.settles_at,
            )
            self.recipients.append(recipient)
        else:
            recipient.begin("associating", moment)
        return recipient

    def add_resource(self, fields: dict, moment: Moment) -> ShareResource:
        resource = ShareResource(id=new_id(), status="active", created=moment.stamp, modified=moment.stamp, **fields)
        self.resources.append(resource)
        return resource

    def rename(self, name: str, moment: Moment) -> None:
        self.name = name
        self.modified = moment.stamp

    def delete(self, moment: Moment) -> None:
        self.begin("deleting", moment)
        for resource in self.resources:
            if resource.status == "active":
                resource.begin("deleting", moment)
        for recipient in self.recipients:
            if recipient.is_live:
                recipient.begin("disassociating", moment)

    def to_json(
        self,
        viewer: str | None = None,
        *,
        with_resources: bool = False,
        with_counts: bool = False,
        rendering: Rendering = STORED,
    ) -> dict:
        data = {
            "id": self.id,
            "account_id": self.account_id,
            "account_name": account_name(self.account_id),
            "organization_id": organization_of(self.account_id),
            "name": self.name,
            "status": self.status,
            "target_type": self.target_type,
            "kind": self.kind_for(viewer),
            "created": self.created,
            "modified": self.modified,
        }
        if with_counts:
            for status in RECIPIENT_STATUSES:
                data[f"{status}_recipient_count"] = sum(r.status == status for r in self.recipients)
        if with_resources:
            data["resources"] = [resource.to_json(rendering) for resource in self.resources]
        return data

    def exposures(self) -> set[tuple[str, ...]]:
        """(share, recipient account, resource identity) for every account that can see a resource right now."""
        if self.status != "active":
            return set()
        return {
            (self.id, recipient.account_id, *resource.identity)
            for recipient in self.recipients
            if recipient.is_live
            for resource in self.resources
            if resource.status == "active"
        }

    def snapshot(self) -> dict:
        """The admin view: every field, every recipient (with its association errors) and every resource, as stored."""
        recipients = [
            dict(r.to_json(), errors={k: list(v) for k, v in r.errors.items()}) if r.errors else r.to_json()
            for r in self.recipients
        ]
        snapshot = {**self.to_json(with_resources=True), "recipients": recipients}
        if self.target_type == "organization":
            snapshot["excluded_recipients"] = [e.to_json() for e in self.excluded]
        return snapshot


class ShareStore:
    def __init__(self) -> None:
        self._shares: dict[str, Share] = {}

    def add(self, share: Share) -> None:
        self._shares[share.id] = share

    def get(self, share_id: str) -> Share | None:
        return self._shares.get(share_id)

    def ordered(self) -> list[Share]:
        return sorted(self._shares.values(), key=lambda share: (share.created, share.id))

    def visible_to(self, account_id: str) -> list[Share]:
        return [s for s in self.ordered() if s.account_id == account_id or s.is_received_by(account_id)]

    def owned_in_organization(self, organization_id: str) -> list[Share]:
        return [s for s in self.ordered() if organization_of(s.account_id) == organization_id]

    def settle(self, now: float, purge_deleted: bool = False) -> int:
        """Completes every transition due at `now` (the single place transitions happen); with `purge_deleted`,
        a share that has become `deleted` is gone at once, as the live API purges it (config `deleted_shares`)."""
        completed = sum(record.settle(now) for share in self._shares.values() for record in share.records())
        if purge_deleted:
            for share_id in [share.id for share in self._shares.values() if share.status == "deleted"]:
                del self._shares[share_id]
        return completed


# --- Requests, answers and errors ------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object  # parsed JSON; the raw text when it is not JSON; None when empty
    body_is_json: bool

    @classmethod
    def parse(cls, method: str, target: str, raw_body: bytes) -> Request:
        url = urlsplit(target)
        text = raw_body.decode("utf-8", "replace") if raw_body else None
        try:
            body, body_is_json = (json.loads(text), True) if text is not None else (None, False)
        except json.JSONDecodeError:
            body, body_is_json = text, False
        return cls(method, url.path, parse_qs(url.query, keep_blank_values=True), body, body_is_json)


@dataclass(frozen=True)
class Reply:
    """What goes back on the wire; status None answers nothing and closes the connection."""

    status: int | None
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    cut_body: bool = False  # announce the whole body, send half of it, close
    silence_seconds: float = 0.0  # wait this long before answering or closing

    def encode(self, keep_alive: bool) -> bytes:
        headers = {"Date": formatdate(usegmt=True), "Server": "cloudflare-emulator", **self.headers}
        if self.status != 204:
            headers["Content-Type"] = self.content_type
            headers["Content-Length"] = str(len(self.body))
        if not keep_alive:
            headers["Connection"] = "close"
        lines = [f"HTTP/1.1 {self.status} {http.client.responses.get(self.status, '')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        body = self.body[: len(self.body) // 2] if self.cut_body else self.body
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_reply(status: int, document: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(document).encode(), headers=headers or {})


def success_document(result: object, messages: Iterable[dict] = (), result_info: dict | None = None) -> dict:
    document = {"success": True, "errors": [], "messages": list(messages), "result": result}
    if result_info is not None:
        document["result_info"] = result_info
    return document


def failure_document(errors: list[dict]) -> dict:
    return {"success": False, "errors": errors, "messages": [], "result": None}


def error(
    code: int,
    message: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
    chain: list[dict] | None = None,
) -> dict:
    item: dict = {"code": code, "message": message}
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    if parameter is not None:
        item["source"] = {"parameter": parameter}
    if chain:
        item["error_chain"] = chain
    return item


class ApiError(Exception):
    """An error answer of the Cloudflare API."""

    def __init__(self, status: int, *errors: dict, headers: dict[str, str] | None = None) -> None:
        super().__init__(errors[0]["message"])
        self.status = status
        self.errors = list(errors)
        self.headers = headers or {}

    def reply(self) -> Reply:
        return json_reply(self.status, failure_document(self.errors), self.headers)


class AdminError(Exception):
    """A bad admin API request (answered 400 with {"error": message})."""


@dataclass(frozen=True)
class Answer:
    result: object
    status: int = 200
    result_info: dict | None = None

    def reply(self, messages: list[dict]) -> Reply:
        if self.status == 204:
            return Reply(204)
        return json_reply(self.status, success_document(self.result, messages, self.result_info))


@dataclass
class Call:
    """One routed API request: the request, its path parameters, the warnings to answer."""

    request: Request
    params: dict[str, str]
    messages: list[dict] = field(default_factory=list)

    @property
    def query(self) -> dict[str, list[str]]:
        return self.request.query

    @property
    def account_id(self) -> str:
        return self.params["account_id"]

    def body_object(self) -> dict:
        return self._body(dict, "object")

    def body_array(self) -> list:
        return self._body(list, "array")

    def _body(self, expected: type, description: str) -> object:
        if not self.request.body_is_json or not isinstance(self.request.body, expected):
            raise ApiError(400, error(1003, f"The request body must be a JSON {description}"))
        return self.request.body

    def warn_deprecated_alias(self) -> None:
        if DEPRECATED_ALIAS_WARNING not in self.messages:
            self.messages.append(DEPRECATED_ALIAS_WARNING)


# --- Authentication ---------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    tokens: tuple[str, ...]
    email: str
    key: str
    read_tokens: tuple[str, ...] = ()


def missing_auth() -> ApiError:
    return ApiError(400, error(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))


def failed_auth() -> ApiError:
    return ApiError(403, error(10000, "Authentication error"))


def authenticate(headers: Message, credentials: Credentials) -> tuple[str, ApiError | None]:
    """The scheme for the request log ("token", "read-token", "key", "none", "invalid") and the error, if any."""
    authorization = headers.get("Authorization")
    if authorization is not None:
        scheme, _separator, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            malformed = error(6111, "Invalid format for Authorization header")
            return "invalid", ApiError(400, error(6003, "Invalid request headers", chain=[malformed]))
        if token.strip() in credentials.read_tokens:
            return "read-token", None
        return ("token", None) if token.strip() in credentials.tokens else ("invalid", failed_auth())
    email, key = headers.get("X-Auth-Email"), headers.get("X-Auth-Key")
    if email is None and key is None:
        return "none", missing_auth()
    if email is None or key is None:
        return "invalid", missing_auth()
    return ("key", None) if (email, key) == (credentials.email, credentials.key) else ("invalid", failed_auth())


def refuse_by_scope(auth: str, request: Request) -> None:
    """What a token may not do: write with read-only permission, or use an organization endpoint at all.

    Cloudflare documents that user API tokens support only some organization operations (the
    Global API key is the workaround), and its schema lists only the key for the organization
    listing; the emulator refuses every token there. Both answer 403 / 10000, as a missing
    permission does (CONTRACT.md).
    """
    if auth in ("token", "read-token") and request.path.startswith(f"{API_PREFIX}/organizations/"):
        raise failed_auth()
    if auth == "read-token" and request.method != "GET":
        raise failed_auth()


# --- Query parameters and pagination -----------------------------------------------------


def bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, error(1002, message, parameter=name))


def query_value(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def query_choice(query: dict[str, list[str]], name: str, choices: tuple[str, ...]) -> str | None:
    value = query_value(query, name)
    if value is not None and value not in choices:
        raise bad_parameter(name, f"{name} must be one of: {', '.join(choices)}")
    return value


def query_choices(query: dict[str, list[str]], name: str, choices: tuple[str, ...]) -> list[str]:
    """A repeatable parameter, also accepted in the `name[]` spelling."""
    values = query.get(name, []) + query.get(f"{name}[]", [])
    for value in values:
        if value not in choices:
            raise bad_parameter(name, f"{name} values must be among: {', '.join(choices)}")
    return values


def query_flag(query: dict[str, list[str]], name: str) -> bool:
    value = query_value(query, name)
    if value in (None, "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise bad_parameter(name, f"{name} must be true or false")


def query_int(query: dict[str, list[str]], name: str, maximum: int | None = None) -> int | None:
    value = query_value(query, name)
    if value is None:
        return None
    number = int(value) if value.isascii() and value.isdigit() else 0
    if number < 1 or (maximum is not None and number > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise bad_parameter(name, f"{name} must be an integer of at least 1{upper}")
    return number


def paginate(items: list, query: dict[str, list[str]], unpaginated_max: int | None) -> tuple[list, dict]:
    page = query_int(query, "page")
    per_page = query_int(query, "per_page", MAX_PER_PAGE)
    if page is None and per_page is None:
        if unpaginated_max is None:
            info = {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items), "total_pages": 1}
            return items, info
        page, per_page = 1, unpaginated_max
    page, per_page = page or 1, per_page or DEFAULT_PER_PAGE
    chunk = items[(page - 1) * per_page : page * per_page]
    total_pages = max(1, math.ceil(len(items) / per_page))
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": total_pages,
    }
    return chunk, info


# --- Body validation ----------------------------------------------------------------------


class Problems:
    """Collects body validation errors, so one 400 answer lists all of them."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def add(self, pointer: str, message: str) -> None:
        self.errors.append(error(1001, message, pointer=pointer))

    def raise_any(self) -> None:
        if self.errors:
            raise ApiError(400, *self.errors)


def checked_name(body: dict, problems: Problems) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        problems.add("/name", "name is required and must be a non-empty string")
    elif len(name) > MAX_NAME_LENGTH:
        problems.add("/name", f"name must be at most {MAX_NAME_LENGTH} characters")
    return name


def check_meta(item: dict, pointer: str, problems: Problems) -> None:
    if not isinstance(item.get("meta"), dict):
        problems.add(f"{pointer}/meta", "meta is required and must be an object (it may be {})")


def checked_resource(item: object, pointer: str, problems: Problems) -> dict:
    """The fields of a share resource to add, with problems noted for the invalid ones."""
    if not isinstance(item, dict):
        problems.add(pointer or "/", "A resource must be an object")
        return {}
    if item.get("resource_type") not in RESOURCE_TYPES:
        problems.add(f"{pointer}/resource_type", f"resource_type must be one of: {', '.join(RESOURCE_TYPES)}")
    for key in ("resource_id", "resource_account_id"):
        if not isinstance(item.get(key), str) or not item[key]:
            problems.add(f"{pointer}/{key}", f"{key} is required and must be a non-empty string")
    check_meta(item, pointer, problems)
    return {key: item.get(key) for key in ("resource_id", "resource_account_id", "resource_type", "meta")}


def checked_resources(items: object, problems: Problems) -> list[dict]:
    if not isinstance(items, list) or not items:
        problems.add("/resources", "resources is required and must be a non-empty array")
        return []
    return [checked_resource(item, f"/resources/{index}", problems) for index, item in enumerate(items)]


def canonical_resource_id(resource_id: str) -> str:
    """A UUID (36 characters with dashes) or a 32-hex id in lower case without dashes; any other id as it is."""
    compact = resource_id.replace("-", "").lower()
    return compact if UUID_OR_HEX.fullmatch(resource_id) else resource_id


def attach_resource(app: App, share: Share, fields: dict, moment: Moment, pointer: str | None = None) -> ShareResource:
    if app.config["resource_id_form"] == "canonical":
        fields = dict(fields, resource_id=canonical_resource_id(fields["resource_id"]))
    identity = (fields["resource_type"], fields["resource_account_id"], fields["resource_id"])
    if share.has_active_resource(identity):
        raise ApiError(409, error(1008, "This resource is already part of the share", pointer=pointer))
    return share.add_resource(fields, moment)


def named_recipient_account(item: dict, call: Call) -> tuple[str, object] | None:
    """(body key, value) of the account a recipient item names, preferring the current key."""
    if "account_id" in item:
        call.warn_deprecated_alias()
    for key in ("recipient_account_id", "account_id"):
        if key in item:
            return key, item[key]
    return None


def check_recipient_account(account: object, owner: str, pointer: str, problems: Problems) -> bool:
    if not isinstance(account, str) or not HEX_ID.fullmatch(account):
        problems.add(pointer, "The recipient account must be a 32-character lowercase hex account identifier")
    elif account == owner:
        problems.add(pointer, "The owner account cannot be a recipient of its own share")
    elif organization_of(account) != organization_of(owner):
        problems.add(pointer, "The recipient account must belong to the share owner's organization")
    else:
        return True
    return False


def check_recipient_accounts(accounts: list[tuple[str, object]], owner: str, problems: Problems) -> None:
    """Checks (pointer, account) pairs, each account valid and named once."""
    seen = set()
    for pointer, account in accounts:
        if check_recipient_account(account, owner, pointer, problems):
            if account in seen:
                problems.add(pointer, "The account is listed more than once")
            seen.add(account)


def checked_create_recipients(items: object, owner: str, problems: Problems, call: Call) -> tuple[str, list[str]]:
    """The target type and recipient accounts of a new share."""
    if not isinstance(items, list) or not items:
        problems.add("/recipients", "recipients is required and must be a non-empty array")
        return "account", []
    accounts: list[tuple[str, object]] = []
    targets_organization = False
    for index, item in enumerate(items):
        pointer = f"/recipients/{index}"
        if not isinstance(item, dict):
            problems.add(pointer, "A recipient must be an object")
            continue
        named = named_recipient_account(item, call)
        if named is not None and "organization_id" in item:
            problems.add(pointer, "A recipient names either an account or an organization, not both")
        elif named is not None:
            accounts.append((f"{pointer}/{named[0]}", named[1]))
        else:
            targets_organization = True
            if "organization_id" in item and item["organization_id"] != organization_of(owner):
                problems.add(f"{pointer}/organization_id", "organization_id must be the share owner's organization")
    if targets_organization and accounts:
        problems.add("/recipients", "A share targets either accounts or its owner's organization, not both")
        return "account", []
    if targets_organization:
        return "organization", organization_recipient_accounts(owner)
    check_recipient_accounts(accounts, owner, problems)
    return "account", [account for _pointer, account in accounts]


# --- Share lookups -------------------------------------------------------------------------


def visible_share(app: App, call: Call) -> Share:
    """The share, when the account in the path owns it or receives it."""
    share = app.store.get(call.params["share_id"])
    if share is None or not (share.account_id == call.account_id or share.is_received_by(call.account_id)):
        raise ApiError(404, error(1004, "Share not found"))
    return share


def writable_share(app: App, call: Call) -> Share:
    share = visible_share(app, call)
    if share.account_id != call.account_id:
        raise ApiError(403, error(1011, "Only the account that owns a share can change it"))
    if share.status != "active":
        raise ApiError(400, error(1009, f"The share is {share.status} and can no longer be changed"))
    return share


def account_targeted_share(app: App, call: Call) -> Share:
    share = writable_share(app, call)
    if share.target_type == "organization":
        raise ApiError(
            400,
            error(
                1010,
                "The recipients of an organization-targeted share follow its "
                "organization; they cannot be added or replaced",
            ),
        )
    return share


def share_recipient(share: Share, call: Call) -> Recipient:
    recipient = share.find_recipient(call.params["recipient_id"])
    if recipient is None:
        raise ApiError(404, error(1005, "Share recipient not found"))
    return recipient


def share_resource(share: Share, call: Call) -> ShareResource:
    resource = share.find_resource(call.params["resource_id"])
    if resource is None:
        raise ApiError(404, error(1006, "Share resource not found"))
    return resource


def paged_answer(app: App, call: Call, items: list, render: Callable[[object], dict]) -> Answer:
    page, info = paginate(items, call.query, app.config["unpaginated_max"])
    return Answer([render(item) for item in page], result_info=info)


# --- API handlers: shares --------------------------------------------------------------------


def list_account_shares(app: App, call: Call) -> Answer:
    return share_listing(app, call, app.store.visible_to(call.account_id), viewer=call.account_id)


def list_organization_shares(app: App, call: Call) -> Answer:
    return share_listing(app, call, app.store.owned_in_organization(call.params["organization_id"]), viewer=None)


def share_listing(app: App, call: Call, shares: list[Share], viewer: str | None) -> Answer:
    # The organization listing takes neither include_resources nor include_recipient_counts: it ignores them.
    organization = viewer is None
    with_resources = not organization and query_flag(call.query, "include_resources")
    with_counts = not organization and query_flag(call.query, "include_recipient_counts")
    selected = sort_shares(filter_shares(shares, call.query, viewer), call.query)
    rendering = app.rendering()
    return paged_answer(
        app,
        call,
        selected,
        lambda share: share.to_json(
            viewer, with_resources=with_resources, with_counts=with_counts, rendering=rendering
        ),
    )


def filter_shares(shares: list[Share], query: dict[str, list[str]], viewer: str | None) -> list[Share]:
    status = query_choice(query, "status", SHARE_STATUSES)
    kind = query_choice(query, "kind", SHARE_KINDS)
    target_type = query_choice(query, "target_type", TARGET_TYPES)
    resource_types = query_choices(query, "resource_types", RESOURCE_TYPES)
    if "tag" in query and viewer is not None:
        # The tag object's shape is unverified (API digest), so the emulator has no tags.
        raise bad_parameter("tag", "The emulator does not implement share tags")
    return [
        share
        for share in shares
        if status in (None, share.status)
        and kind in (None, share.kind_for(viewer))
        and target_type in (None, share.target_type)
        and (not resource_types or share.has_resource_type(resource_types))
    ]


def sort_shares(shares: list[Share], query: dict[str, list[str]]) -> list[Share]:
    order = query_choice(query, "order", ("name", "created")) or "created"
    direction = query_choice(query, "direction", ("asc", "desc")) or "asc"
    by_name = order == "name"
    return sorted(shares, key=lambda s: (s.name if by_name else "", s.created, s.id), reverse=direction == "desc")


def create_share(app: App, call: Call) -> Answer:
    owner = call.account_id
    body = call.body_object()
    problems = Problems()
    name = checked_name(body, problems)
    target_type, recipient_accounts = checked_create_recipients(body.get("recipients"), owner, problems, call)
    resources = checked_resources(body.get("resources"), problems)
    problems.raise_any()
    moment = app.moment()
    share = Share(
        id=new_id(),
        account_id=owner,
        name=name,
        target_type=target_type,
        status="active",
        created=moment.stamp,
        modified=moment.stamp,
    )
    for account in recipient_accounts:
        share.associate(account, moment)
    for index, fields in enumerate(resources):
        attach_resource(app, share, fields, moment, pointer=f"/resources/{index}")
    app.store.add(share)
    generous = app.config["answer_profile"] == "generous"
    return Answer(
        share.to_json(owner, with_resources=generous, with_counts=generous, rendering=app.rendering()), status=201
    )


def get_share(app: App, call: Call) -> Answer:
    share = visible_share(app, call)
    return Answer(
        share.to_json(
            call.account_id,
            with_resources=query_flag(call.query, "include_resources"),
            with_counts=query_flag(call.query, "include_recipient_counts"),
            rendering=app.rendering(),
        )
    )


def update_share(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    problems = Problems()
    name = checked_name(call.body_object(), problems)
    problems.raise_any()
    share.rename(name, app.moment())
    return Answer(share.to_json(call.account_id))


def delete_share(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    share.delete(app.moment())
    return Answer(share.to_json(call.account_id))


# --- API handlers: recipients ----------------------------------------------------------------


def list_recipients(app: App, call: Call) -> Answer:
    share = visible_share(app, call)
    with_report = query_flag(call.query, "include_resources")
    return paged_answer(
        app,
        call,
        share.recipients,
        lambda recipient: recipient.to_json(share.association_report(recipient) if with_report else None),
    )


def get_recipient(app: App, call: Call) -> Answer:
    share = visible_share(app, call)
    recipient = share_recipient(share, call)
    return Answer(
        recipient.to_json(share.association_report(recipient) if query_flag(call.query, "include_resources") else None)
    )


def add_recipient(app: App, call: Call) -> Answer:
    share = account_targeted_share(app, call)
    body = call.body_object()
    problems = Problems()
    if "organization_id" in body:
        problems.add("/organization_id", "Only accounts can be added to an account-targeted share")
    named = named_recipient_account(body, call)
    if named is None:
        problems.add("/recipient_account_id", "recipient_account_id is required")
    else:
        check_recipient_account(named[1], share.account_id, f"/{named[0]}", problems)
    problems.raise_any()
    key, account = named
    existing = share.recipient_for(account)
    if existing is not None and existing.is_live:
        raise ApiError(409, error(1007, "The account is already a recipient of this share", pointer=f"/{key}"))
    return Answer(share.associate(account, app.moment()).to_json(), status=201)


def replace_recipients(app: App, call: Call) -> Answer:
    share = account_targeted_share(app, call)
    problems = Problems()
    accounts: list[tuple[str, object]] = []
    for index, item in enumerate(call.body_array()):
        named = named_recipient_account(item, call) if isinstance(item, dict) else None
        if named is None:
            problems.add(f"/{index}", "Each item must be an object with recipient_account_id")
        else:
            accounts.append((f"/{index}/{named[0]}", named[1]))
    check_recipient_accounts(accounts, share.account_id, problems)
    problems.raise_any()
    wanted = [account for _pointer, account in accounts]
    moment = app.moment()
    for recipient in share.recipients:
        if recipient.is_live and recipient.account_id not in wanted:
            recipient.begin("disassociating", moment)
    for account in wanted:
        existing = share.recipient_for(account)
        if existing is None or not existing.is_live:
            share.associate(account, moment)
    return Answer(None, status=204)


def remove_recipient(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    recipient = share_recipient(share, call)
    if recipient.is_live:
        recipient.begin("disassociating", app.moment())
    return Answer(recipient.to_json())


# --- API handlers: resources -----------------------------------------------------------------


def list_resources(app: App, call: Call) -> Answer:
    share = visible_share(app, call)
    status = query_choice(call.query, "status", SHARE_STATUSES)
    resource_type = query_choice(call.query, "resource_type", RESOURCE_TYPES)
    selected = [r for r in share.resources if status in (None, r.status) and resource_type in (None, r.resource_type)]
    rendering = app.rendering()
    return paged_answer(app, call, selected, lambda resource: resource.to_json(rendering))


def get_resource(app: App, call: Call) -> Answer:
    return Answer(share_resource(visible_share(app, call), call).to_json(app.rendering()))


def add_resource(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    problems = Problems()
    fields = checked_resource(call.body_object(), "", problems)
    problems.raise_any()
    return Answer(attach_resource(app, share, fields, app.moment()).to_json(app.rendering()), status=201)


def update_resource(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    resource = share_resource(share, call)
    if resource.status != "active":
        raise ApiError(400, error(1012, f"The share resource is {resource.status} and can no longer be changed"))
    body = call.body_object()
    problems = Problems()
    check_meta(body, "", problems)
    problems.raise_any()
    resource.update_meta(body["meta"], app.moment())
    return Answer(resource.to_json(app.rendering()))


def remove_resource(app: App, call: Call) -> Answer:
    share = writable_share(app, call)
    resource = share_resource(share, call)
    if resource.status == "active":
        resource.begin("deleting", app.moment())
    return Answer(resource.to_json(app.rendering()))


# --- API handlers: excluded recipients (organization-targeted shares) ------------------------


def organization_targeted_share(app: App, call: Call) -> Share:
    share = visible_share(app, call)
    if share.target_type != "organization":
        raise ApiError(400, error(1013, "Only shares with target_type=organization have excluded recipients"))
    return share


def checked_excluded_account(item: object, owner: str, pointer: str, problems: Problems) -> str | None:
    account = item.get("account_id") if isinstance(item, dict) else None
    if not isinstance(item, dict) or "account_id" not in item:
        problems.add(pointer or "/", "An excluded recipient must be an object with account_id")
    elif check_recipient_account(account, owner, f"{pointer}/account_id", problems):
        return account
    return None


def excluded_recipient(share: Share, call: Call) -> ExcludedRecipient:
    excluded = share.find_excluded(call.params["excluded_recipient_id"])
    if excluded is None:
        raise ApiError(404, error(1014, "Share excluded recipient not found"))
    return excluded


def list_excluded_recipients(app: App, call: Call) -> Answer:
    share = organization_targeted_share(app, call)
    return paged_answer(app, call, share.excluded, ExcludedRecipient.to_json)


def get_excluded_recipient(app: App, call: Call) -> Answer:
    return Answer(excluded_recipient(organization_targeted_share(app, call), call).to_json())


def add_excluded_recipient(app: App, call: Call) -> Answer:
    share = organization_targeted_share(app, call)
    writable_share(app, call)
    problems = Problems()
    account = checked_excluded_account(call.body_object(), share.account_id, "", problems)
    problems.raise_any()
    if any(e.account_id == account for e in share.excluded):
        raise ApiError(409, error(1015, "The account is already excluded from this share", pointer="/account_id"))
    moment = app.moment()
    excluded = ExcludedRecipient(id=new_id(), account_id=account, created=moment.stamp, modified=moment.stamp)
    share.excluded.append(excluded)
    share.reconcile_organization(moment)
    return Answer(excluded.to_json(), status=201)


def replace_excluded_recipients(app: App, call: Call) -> Answer:
    share = organization_targeted_share(app, call)
    writable_share(app, call)
    problems = Problems()
    accounts = [
        checked_excluded_account(item, share.account_id, f"/{index}", problems)
        for index, item in enumerate(call.body_array())
    ]
    if len(set(accounts)) != len(accounts):
        problems.add("/", "An account is listed more than once")
    problems.raise_any()
    moment = app.moment()
    kept = [e for e in share.excluded if e.account_id in accounts]
    known = {e.account_id for e in kept}
    share.excluded = kept + [
        ExcludedRecipient(id=new_id(), account_id=a, created=moment.stamp, modified=moment.stamp)
        for a in accounts
        if a not in known
    ]
    share.reconcile_organization(moment)
    return Answer(None, status=204)


def delete_excluded_recipient(app: App, call: Call) -> Answer:
    share = organization_targeted_share(app, call)
    writable_share(app, call)
    excluded = excluded_recipient(share, call)
    share.excluded.remove(excluded)
    share.reconcile_organization(app.moment())
    return Answer(excluded.to_json())


# --- API routing ------------------------------------------------------------------------------

Handler = Callable[["App", Call], Answer]
SHARE_PATH = "/accounts/{account_id}/shares/{share_id}"
API_ROUTES: dict[str, dict[str, Handler]] = {
    "/accounts/{account_id}/shares": {"GET": list_account_shares, "POST": create_share},
    SHARE_PATH: {"GET": get_share, "PUT": update_share, "DELETE": delete_share},
    f"{SHARE_PATH}/recipients": {"GET": list_recipients, "POST": add_recipient, "PUT": replace_recipients},
    f"{SHARE_PATH}/recipients/{{recipient_id}}": {"GET": get_recipient, "DELETE": remove_recipient},
    f"{SHARE_PATH}/resources": {"GET": list_resources, "POST": add_resource},
    f"{SHARE_PATH}/resources/{{resource_id}}": {"GET": get_resource, "PUT": update_resource, "DELETE": remove_resource},
    f"{SHARE_PATH}/excluded-recipients": {
        "GET": list_excluded_recipients,
        "POST": add_excluded_recipient,
        "PUT": replace_excluded_recipients,
    },
    f"{SHARE_PATH}/excluded-recipients/{{excluded_recipient_id}}": {
        "GET": get_excluded_recipient,
        "DELETE": delete_excluded_recipient,
    },
    "/organizations/{organization_id}/shares": {"GET": list_organization_shares},
}
COMPILED_API_ROUTES = [
    (re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)), methods) for template, methods in API_ROUTES.items()
]


def unroutable(status: int, path: str) -> ApiError:
    return ApiError(status, error(7003, f"Could not route to {path}, perhaps your object identifier is invalid?"))


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    """The handler and path parameters of an API request."""
    relative = path.removeprefix(API_PREFIX) if path.startswith(f"{API_PREFIX}/") else ""
    for pattern, methods in COMPILED_API_ROUTES:
        found = pattern.fullmatch(relative)
        if found is None:
            continue
        params = found.groupdict()
        if not all(HEX_ID.fullmatch(value) for value in params.values()):
            raise unroutable(400, path)
        if method not in methods:
            raise ApiError(405, error(7001, f"Method {method} not allowed for {path}"))
        return methods[method], params
    raise unroutable(404, path)


# --- Faults, rate limit, request log ----------------------------------------------------------


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_regex(value: object) -> bool:
    try:
        re.compile(value)
    except (re.error, TypeError):
        return False
    return True


def check_fields(spec: object, checks: dict[str, Callable[[object], bool]], what: str) -> dict:
    if not isinstance(spec, dict):
        raise AdminError(f"{what} must be a JSON object")
    for key, value in spec.items():
        if key not in checks:
            raise AdminError(f"unknown {what} field {key!r}; known: {', '.join(checks)}")
        if not checks[key](value):
            raise AdminError(f"invalid {what} field {key!r}: {value!r}")
    return spec


def fault_error(spec: dict) -> dict:
    return error(spec.get("code", 10001), spec.get("message", "Emulated fault"))


def retry_after_header(spec: dict) -> dict[str, str]:
    return {"Retry-After": str(spec["retry_after"])} if "retry_after" in spec else {}


FAULT_REPLIES: dict[str, Callable[[dict], Reply]] = {
    "status": lambda spec: json_reply(
        spec.get("status", 500), failure_document([fault_error(spec)]), retry_after_header(spec)
    ),
    "html": lambda spec: Reply(
        spec.get("status", 502),
        b"<html><head><title>Bad gateway</title></head><body>"
        b"<h1>Error</h1><p>The upstream server answered with an error.</p></body></html>",
        "text/html; charset=UTF-8",
        retry_after_header(spec),
    ),
    "success_false": lambda spec: json_reply(200, failure_document([fault_error(spec)])),
    "truncate": lambda spec: Reply(200, json.dumps(success_document(None)).encode(), cut_body=True),
    "not_json": lambda spec: Reply(200, b"upstream answered: OK"),
    "hang": lambda spec: Reply(None, silence_seconds=spec.get("seconds", 30)),
    "drop": lambda spec: Reply(None),
    # Not a reply of its own: the request waits `seconds`, then is handled normally (App.handle_api).
    "delay": lambda spec: None,
}
FAULT_FIELD_CHECKS: dict[str, Callable[[object], bool]] = {
    "action": lambda value: value in FAULT_REPLIES,
    "method": lambda value: isinstance(value, str),
    "path": is_regex,
    "after": lambda value: is_int(value) and value >= 0,
    "times": lambda value: is_int(value) and value >= 1,
    "status": lambda value: is_int(value) and 100 <= value <= 599,
    "retry_after": lambda value: is_int(value) and value >= 0,
    "seconds": lambda value: is_number(value) and value >= 0,
    "code": is_int,
    "message": lambda value: isinstance(value, str),
}


@dataclass
class Fault:
    spec: dict  # as posted; echoed back by the admin API
    matched: int = 0  # requests seen so far that match method and path

    @classmethod
    def from_spec(cls, spec: object) -> Fault:
        check_fields(spec, FAULT_FIELD_CHECKS, "fault")
        if "action" not in spec:
            raise AdminError(f"a fault needs an action, one of: {', '.join(FAULT_REPLIES)}")
        return cls(spec)

    @property
    def action(self) -> str:
        return self.spec["action"]

    def fires_on(self, request: Request) -> bool:
        method, path = self.spec.get("method"), self.spec.get("path")
        if (method and method.upper() != request.method) or (path and not re.search(path, request.path)):
            return False
        self.matched += 1
        after = self.spec.get("after", 0)
        return after < self.matched <= after + self.spec.get("times", 1)

    def reply(self) -> Reply:
        return FAULT_REPLIES[self.action](self.spec)

    def to_json(self) -> dict:
        return {**self.spec, "matched": self.matched}


def firing_fault(faults: list[Fault], request: Request) -> Fault | None:
    """The first fault that fires; every fault counts every request it matches."""
    fired = [fault for fault in faults if fault.fires_on(request)]
    return fired[0] if fired else None


class RateLimiter:
    """Sliding window over the requests it let through."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def retry_after(self, limit: dict | None, now: float) -> int | None:
        """Seconds to wait when over the limit; otherwise counts the request and returns None."""
        if limit is None:
            return None
        window = limit["window_seconds"]
        while self._times and self._times[0] <= now - window:
            self._times.popleft()
        if len(self._times) >= limit["requests"]:
            return max(1, math.ceil(self._times[0] + window - now))
        self._times.append(now)
        return None


class RequestLog:
    """API requests as seen by the emulator; never a header value (so never a secret)."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def record(self, request: Request, status: int | None, auth: str, fault: str | None, client_port: int) -> None:
        self.entries.append(
            {
                "seq": len(self.entries) + 1,
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "body": request.body,
                "status": status,
                "auth": auth,
                "fault": fault,
                "client_port": client_port,
                "time": time.monotonic(),
            }
        )


# --- The application ---------------------------------------------------------------------------

CONFIG_CHECKS: dict[str, Callable[[object], bool]] = {
    "latency_ms": lambda value: is_number(value) and value >= 0,
    "transition_seconds": lambda value: is_number(value) and value >= 0,
    "unpaginated_max": lambda value: value is None or (is_int(value) and value >= 1),
    "answer_profile": lambda value: value in ("minimal", "generous"),
    "resource_id_form": lambda value: value in ("as_sent", "canonical"),
    "empty_meta_echo": lambda value: value in ("object", "null", "omitted"),
    "meta_key_order": lambda value: value in ("as_sent", "reversed"),
    "deleted_shares": lambda value: value in ("kept", "purged"),
    "rate_limit": lambda value: (
        value is None
        or (
            isinstance(value, dict)
            and set(value) == {"requests", "window_seconds"}
            and is_int(value["requests"])
            and value["requests"] >= 1
            and is_number(value["window_seconds"])
            and value["window_seconds"] > 0
        )
    ),
}


class App:
    """All emulator state, behind one lock, and the pipelines of both APIs."""

    def __init__(self, credentials: Credentials, default_config: dict) -> None:
        self.lock = threading.Lock()
        self.credentials = credentials
        self._default_config = default_config
        self._clock = Clock()
        self.reset()

    def reset(self) -> None:
        self.config = dict(self._default_config)
        self.store = ShareStore()
        self.faults: list[Fault] = []
        self.request_log = RequestLog()
        self.rate_limiter = RateLimiter()
        self.exposures: set[tuple[str, ...]] = set()

    def record_exposures(self) -> None:
        """Adds every pair that can see each other now to the pairs ever exposed (see /__admin/exposures)."""
        for share in self.store.ordered():
            self.exposures |= share.exposures()

    def timestamp(self) -> str:
        return self._clock.timestamp()

    def rendering(self) -> Rendering:
        return Rendering(
            empty_meta=self.config["empty_meta_echo"], reverse_meta_keys=self.config["meta_key_order"] == "reversed"
        )

    def moment(self) -> Moment:
        return Moment(self.timestamp(), time.monotonic() + self.config["transition_seconds"])

    def latency_seconds(self) -> float:
        with self.lock:
            return self.config["latency_ms"] / 1000

    def settle(self, now: float) -> int:
        return self.store.settle(now, purge_deleted=self.config["deleted_shares"] == "purged")

    def handle_api(self, request: Request, headers: Message, client_port: int = 0) -> Reply:
        with self.lock:
            fault = firing_fault(self.faults, request)
        if fault is not None and fault.action == "delay":
            time.sleep(fault.spec.get("seconds", 30))
        with self.lock:
            self.settle(time.monotonic())
            auth, auth_error = authenticate(headers, self.credentials)
            replaced = fault is not None and fault.action != "delay"
            reply = fault.reply() if replaced else self._api_reply(request, auth, auth_error)
            self.request_log.record(request, reply.status, auth, fault.action if fault else None, client_port)
            if request.method != "GET" and not replaced:
                self.record_exposures()
            return reply

    def _api_reply(self, request: Request, auth: str, auth_error: ApiError | None) -> Reply:
        try:
            wait = self.rate_limiter.retry_after(self.config["rate_limit"], time.monotonic())
            if wait is not None:
                raise ApiError(
                    429,
                    error(971, "Please wait and consider throttling your request speed"),
                    headers={"Retry-After": str(wait)},
                )
            if auth_error is not None:
                raise auth_error
            refuse_by_scope(auth, request)
            handler, params = resolve(request.method, request.path)
            call = Call(request, params)
            return handler(self, call).reply(call.messages)
        except ApiError as failure:
            return failure.reply()
        except Exception:  # an emulator bug must answer 500, not drop the connection
            traceback.print_exc()
            return ApiError(500, error(10001, "Internal emulator error")).reply()

    def handle_admin(self, request: Request) -> Reply:
        action = ADMIN_ROUTES.get((request.method, request.path))
        if action is None:
            return json_reply(404, {"error": f"no admin route {request.method} {request.path}"})
        with self.lock:
            self.settle(time.monotonic())
            try:
                return json_reply(200, action(self, request))
            except AdminError as failure:
                return json_reply(400, {"error": str(failure)})


# --- Admin API -----------------------------------------------------------------------------------


def admin_body(request: Request, key: str, expected: type) -> object:
    if not isinstance(request.body, dict) or not isinstance(request.body.get(key), expected):
        raise AdminError(f"the body must be a JSON object with {key!r} ({expected.__name__})")
    return request.body[key]


def required(spec: object, key: str) -> object:
    if not isinstance(spec, dict) or key not in spec:
        raise AdminError(f"seed item {spec!r} needs {key!r}")
    return spec[key]


def seeded_lifecycle(status: str) -> dict:
    """Seeded transitional statuses wait for /__admin/advance, whatever transition_seconds is."""
    return {"status": status, "settles_at": math.inf if status in SETTLED_STATUS else None}


def seeded_recipient(spec: object, stamp: str) -> Recipient:
    return Recipient(
        id=new_id(),
        account_id=required(spec, "account_id"),
        created=stamp,
        modified=stamp,
        **seeded_lifecycle(spec.get("association_status", "associated")),
    )


def seeded_excluded(account_id: object, stamp: str) -> ExcludedRecipient:
    if not isinstance(account_id, str):
        raise AdminError(f"excluded_recipients holds account ids, got {account_id!r}")
    return ExcludedRecipient(id=new_id(), account_id=account_id, created=stamp, modified=stamp)


def seeded_resource(spec: object, owner: str, stamp: str) -> ShareResource:
    return ShareResource(
        id=new_id(),
        resource_id=required(spec, "resource_id"),
        resource_type=required(spec, "resource_type"),
        resource_account_id=spec.get("resource_account_id", owner),
        meta=spec.get("meta", {}),
        created=stamp,
        modified=stamp,
        **seeded_lifecycle(spec.get("status", "active")),
    )


def seeded_share(spec: object, stamp: str) -> Share:
    name = required(spec, "name")
    owner = spec.get("account_id", MAIN_ACCOUNT)
    return Share(
        id=spec.get("id") or new_id(),
        account_id=owner,
        name=name,
        target_type=spec.get("target_type", "account"),
        created=stamp,
        modified=stamp,
        recipients=[seeded_recipient(item, stamp) for item in spec.get("recipients", [])],
        resources=[seeded_resource(item, owner, stamp) for item in spec.get("resources", [])],
        excluded=[seeded_excluded(account, stamp) for account in spec.get("excluded_recipients", [])],
        **seeded_lifecycle(spec.get("status", "active")),
    )


def admin_seed(app: App, request: Request) -> dict:
    shares = [seeded_share(spec, app.timestamp()) for spec in admin_body(request, "shares", list)]
    ids = [share.id for share in shares]
    if len(set(ids)) != len(ids) or any(app.store.get(share_id) for share_id in ids):
        raise AdminError("seeded share ids must be new and distinct")
    for share in shares:
        app.store.add(share)
    app.record_exposures()
    return {"shares": [share.snapshot() for share in shares]}


def admin_reset(app: App, request: Request) -> dict:
    app.reset()
    return {"config": app.config}


def admin_state(app: App, request: Request) -> dict:
    return {"shares": [share.snapshot() for share in app.store.ordered()]}


def admin_requests(app: App, request: Request) -> dict:
    return {"requests": app.request_log.entries}


def admin_clear_requests(app: App, request: Request) -> dict:
    app.request_log = RequestLog()
    return {"requests": []}


def admin_faults(app: App, request: Request) -> dict:
    return {"faults": [fault.to_json() for fault in app.faults]}


def admin_add_faults(app: App, request: Request) -> dict:
    app.faults += [Fault.from_spec(spec) for spec in admin_body(request, "faults", list)]
    return admin_faults(app, request)


def admin_clear_faults(app: App, request: Request) -> dict:
    app.faults = []
    return admin_faults(app, request)


def admin_config(app: App, request: Request) -> dict:
    return {**app.config}


def admin_configure(app: App, request: Request) -> dict:
    changes = check_fields(request.body, CONFIG_CHECKS, "config")
    app.config.update(changes)
    if "rate_limit" in changes:
        app.rate_limiter = RateLimiter()
    return admin_config(app, request)


def admin_advance(app: App, request: Request) -> dict:
    return {"completed": app.settle(math.inf)}


def admin_add_association_error(app: App, request: Request) -> dict:
    """Make a recipient's association fail for one resource: it stays associating and reports the error."""
    body = request.body if isinstance(request.body, dict) else {}
    share = app.store.get(body.get("share_id"))
    recipient = share.recipient_for(body.get("account_id")) if share else None
    if recipient is None:
        raise AdminError("association error: no share_id with that recipient account_id")
    resources = [
        r for r in share.resources if r.status == "active" and body.get("resource_id") in (None, r.resource_id)
    ]
    if not resources or not isinstance(body.get("error"), str) or not isinstance(body.get("terminal"), bool):
        raise AdminError(
            "association error: needs an active resource_id (default: the first), error (str), terminal (bool)"
        )
    recipient.errors[resources[0].resource_id] = (body["error"], body["terminal"])
    return {"share": share.snapshot()}


def admin_clear_association_errors(app: App, request: Request) -> dict:
    for share in app.store.ordered():
        for recipient in share.recipients:
            recipient.errors.clear()
    return {"cleared": True}


def admin_exposures(app: App, request: Request) -> dict:
    return {"exposures": [list(pair) for pair in sorted(app.exposures)]}


ADMIN_ROUTES: dict[tuple[str, str], Callable[[App, Request], dict]] = {
    ("POST", f"{ADMIN_PREFIX}/reset"): admin_reset,
    ("GET", f"{ADMIN_PREFIX}/state"): admin_state,
    ("POST", f"{ADMIN_PREFIX}/seed"): admin_seed,
    ("GET", f"{ADMIN_PREFIX}/requests"): admin_requests,
    ("DELETE", f"{ADMIN_PREFIX}/requests"): admin_clear_requests,
    ("GET", f"{ADMIN_PREFIX}/faults"): admin_faults,
    ("POST", f"{ADMIN_PREFIX}/faults"): admin_add_faults,
    ("DELETE", f"{ADMIN_PREFIX}/faults"): admin_clear_faults,
    ("GET", f"{ADMIN_PREFIX}/config"): admin_config,
    ("POST", f"{ADMIN_PREFIX}/config"): admin_configure,
    ("POST", f"{ADMIN_PREFIX}/advance"): admin_advance,
    ("GET", f"{ADMIN_PREFIX}/exposures"): admin_exposures,
    ("POST", f"{ADMIN_PREFIX}/association-errors"): admin_add_association_error,
    ("DELETE", f"{ADMIN_PREFIX}/association-errors"): admin_clear_association_errors,
}


# --- HTTP ----------------------------------------------------------------------------------------


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # With Nagle on, a kept-alive connection stalls ~40 ms per request on delayed ACKs.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Request.parse(self.command, self.path, self.rfile.read(length) if length else b"")
        app = self.server.app
        if request.path == ADMIN_PREFIX or request.path.startswith(f"{ADMIN_PREFIX}/"):
            reply = app.handle_admin(request)
        else:
            time.sleep(app.latency_seconds())
            reply = app.handle_api(request, self.headers, self.client_address[1])
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _send(self, reply: Reply) -> None:
        time.sleep(reply.silence_seconds)
        if reply.status is None or reply.cut_body:
            self.close_connection = True
        if reply.status is not None:
            # One write for headers and body: a separate body write waits on the delayed ACK.
            self.wfile.write(reply.encode(keep_alive=not self.close_connection))

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the admin request log is the access log."""


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 makes a 6th simultaneous connection wait about 1 s.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, RequestHandler)


def use_tls(server: EmulatorServer, cert: str, key: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # The handshake then runs in the connection's thread, not in the accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)


def write_port_file(path: str, port: int) -> None:
    """Atomically, so a poller never reads a half-written file."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="ascii") as handle:
        handle.write(f"{port}\n")
    os.replace(partial, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Cloudflare Resource Sharing API emulator (see CONTRACT.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--token", action="append", dest="tokens", help="accepted API token (repeatable)")
    parser.add_argument(
        "--read-token", action="append", dest="read_tokens", help="accepted read-only API token (repeatable)"
    )
    parser.add_argument("--email", default=DEFAULT_EMAIL)
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument("--transition-seconds", type=float, default=0.0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (needs --tls-key)")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def stop_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    credentials = Credentials(
        tuple(args.tokens or [DEFAULT_TOKEN]), args.email, args.key, tuple(args.read_tokens or [DEFAULT_READ_TOKEN])
    )
    default_config = {
        "latency_ms": 0,
        "transition_seconds": args.transition_seconds,
        "unpaginated_max": None,
        "rate_limit": None,
        "answer_profile": "minimal",
        "resource_id_form": "as_sent",
        "empty_meta_echo": "object",
        "meta_key_order": "as_sent",
        "deleted_shares": "kept",
    }
    server = EmulatorServer((args.host, args.port), App(credentials, default_config))
    if args.tls_cert:
        use_tls(server, args.tls_cert, args.tls_key)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_on_signal)
    port = server.server_address[1]
    print(f"emulator listening on {'https' if args.tls_cert else 'http'}://{args.host}:{port}", flush=True)
    if args.port_file:
        write_port_file(args.port_file, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
