"""The live-test kit's plumbing: settings from the environment, the run prefix, and a small API client for cleanup.

Used by the live suite (tests/live/conftest.py, test_live.py) and by the sweep (tests/live/sweep.py). Standard
library only, and independent of the collection's own HTTP client on purpose: the cleanup must still work when the
code under test is broken. See tests/live/README.md.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
USER_AGENT = "edgeops.cloudflare live-test kit"
# Every share the kit makes is named <run prefix><what>; the run prefix starts with this.
PREFIX_ROOT = "edgeops-live-"
RUN_PREFIX_PATTERN = re.compile(r"^edgeops-live-\d{14}-[0-9a-f]{6}-$")
RESOURCE_TYPES = (
    "custom-ruleset",
    "gateway-policy",
    "gateway-destination-ip",
    "gateway-block-page-settings",
    "gateway-extended-email-matching",
    "idp-federation-grant",
    "trust-grant",
)
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
# A credential must be sendable in an HTTP header; anything else is refused by name, without showing it.
HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")

OPT_IN = "CLOUDFLARE_LIVE_TESTS"
TOKEN = "CLOUDFLARE_API_TOKEN"
EMAIL = "CLOUDFLARE_EMAIL"
KEY = "CLOUDFLARE_API_KEY"
ACCOUNT = "CLOUDFLARE_ACCOUNT_ID"
BASE_URL = "CLOUDFLARE_BASE_URL"
RECIPIENT = "CLOUDFLARE_LIVE_RECIPIENT_ACCOUNT_ID"
RESOURCE_ID = "CLOUDFLARE_LIVE_RESOURCE_ID"
RESOURCE_TYPE = "CLOUDFLARE_LIVE_RESOURCE_TYPE"
RESOURCE_ID_2 = "CLOUDFLARE_LIVE_RESOURCE_ID_2"
RESOURCE_TYPE_2 = "CLOUDFLARE_LIVE_RESOURCE_TYPE_2"
WAIT_TIMEOUT = "CLOUDFLARE_LIVE_WAIT_TIMEOUT"

DEFAULT_RESOURCE_TYPE = "custom-ruleset"
DEFAULT_WAIT_TIMEOUT = 180
MAX_WAIT_TIMEOUT = 1800

# What each variable is for: the refusal prints one of these lines per missing or invalid variable.
PURPOSE = {
    OPT_IN: "must be 1: the opt-in that lets the kit create and delete shares in a real Cloudflare account",
    TOKEN: "an API token with Resource Sharing Edit on the account (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY, "
    "the legacy Global API key)",
    ACCOUNT: "the Enterprise account that owns the test shares (32 hex characters)",
    RECIPIENT: "a second account of the same organization, the recipient of the account share (32 hex characters)",
    RESOURCE_ID: "a resource the account owns, put into every test share (a custom ruleset id unless "
    "CLOUDFLARE_LIVE_RESOURCE_TYPE says otherwise)",
    RESOURCE_TYPE: "the type of CLOUDFLARE_LIVE_RESOURCE_ID, one of " + ", ".join(RESOURCE_TYPES),
    RESOURCE_ID_2: "optional: a second resource the account owns, for the share_resource step (add, update meta, "
    "remove)",
    RESOURCE_TYPE_2: "the type of CLOUDFLARE_LIVE_RESOURCE_ID_2, one of " + ", ".join(RESOURCE_TYPES),
    WAIT_TIMEOUT: f"optional: seconds each wait: true task may wait, 1 to {MAX_WAIT_TIMEOUT} (default {DEFAULT_WAIT_TIMEOUT})",
    BASE_URL: "optional: the API root, default " + DEFAULT_BASE_URL,
}


def _value(environ, name):
    """The variable's value, stripped; an empty or blank one counts as not set (as the modules do)."""
    value = environ.get(name)
    return value.strip() if value is not None and value.strip() else None


@dataclass(frozen=True)
class Settings:
    """What the kit needs, read from the environment. The credentials never show in repr()."""

    base_url: str
    account_id: str
    token: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    recipient_account_id: str | None = None
    resource_type: str = DEFAULT_RESOURCE_TYPE
    resource_id: str | None = None
    resource_type_2: str | None = None
    resource_id_2: str | None = None
    wait_timeout: int = DEFAULT_WAIT_TIMEOUT

    @property
    def auth_headers(self):
        if self.token:
            return {"Authorization": "Bearer " + self.token}
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.key}

    @property
    def auth_scheme(self):
        return (
            "API token (CLOUDFLARE_API_TOKEN)"
            if self.token
            else "Global API key (CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY)"
        )

    @property
    def secrets(self):
        return {value for value in (self.token, self.key) if value}

    def module_environment(self):
        """The CLOUDFLARE_* variables the modules read, for the ansible-playbook processes."""
        env = {ACCOUNT: self.account_id, BASE_URL: self.base_url}
        if self.token:
            env[TOKEN] = self.token
        else:
            env.update({EMAIL: self.email, KEY: self.key})
        return env


def read_settings(environ, scenario=True):
    """(Settings or None, problems): one line per missing or invalid variable, naming it and what it is for.

    ``scenario``: the suite needs the recipient and resource variables too; the sweep needs only the opt-in,
    the credentials and the account. Nothing is sent anywhere.
    """
    problems = []

    def problem(name, what, purpose_of=None):
        problems.append(f"{name}: {what}; {PURPOSE[purpose_of or name]}")

    if _value(environ, OPT_IN) != "1":
        problem(OPT_IN, "not set" if _value(environ, OPT_IN) is None else "is not 1")

    token, email, key = (_value(environ, name) for name in (TOKEN, EMAIL, KEY))
    if token and key:
        problem(TOKEN, "set together with CLOUDFLARE_API_KEY: unset one of them (the modules refuse two schemes)")
    elif not token and not (email and key):
        if email or key:
            missing = KEY if email else EMAIL
            problem(missing, "not set, and CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY go together", TOKEN)
        else:
            problem(TOKEN, "not set (nor CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY)")
    if token and not key:
        email = None  # CLOUDFLARE_EMAIL alone is often set for other tools; the token is the scheme
    for name, value in ((TOKEN, token), (KEY, key)):
        if value and not HEADER_SAFE.match(value):
            problem(name, "contains a space or a control character (value not shown)", TOKEN)

    def hex_id(name, required=True):
        value = _value(environ, name)
        if value is None:
            if required:
                problem(name, "not set")
        elif not HEX_ID.match(value):
            problem(name, "is not a 32-character lowercase hexadecimal id")
        return value

    account_id = hex_id(ACCOUNT)
    base_url = _value(environ, BASE_URL) or DEFAULT_BASE_URL
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path.rstrip("/") != "/client/v4":
        problem(BASE_URL, "is not an http(s) URL whose path is /client/v4")
    base_url = base_url.rstrip("/")

    wait_timeout = DEFAULT_WAIT_TIMEOUT
    raw_wait = _value(environ, WAIT_TIMEOUT)
    if raw_wait is not None:
        if raw_wait.isdigit() and 1 <= int(raw_wait) <= MAX_WAIT_TIMEOUT:
            wait_timeout = int(raw_wait)
        else:
            problem(WAIT_TIMEOUT, f"is not a whole number of seconds from 1 to {MAX_WAIT_TIMEOUT}")

    scenario_values = {}
    if scenario:
        recipient = hex_id(RECIPIENT)
        if recipient and recipient == account_id:
            problem(RECIPIENT, "is CLOUDFLARE_ACCOUNT_ID itself, not another account")
        resource_id = _value(environ, RESOURCE_ID)
        if resource_id is None:
            problem(RESOURCE_ID, "not set")
        resource_id_2 = _value(environ, RESOURCE_ID_2)
        resource_type = _value(environ, RESOURCE_TYPE) or DEFAULT_RESOURCE_TYPE
        resource_type_2 = _value(environ, RESOURCE_TYPE_2) or resource_type
        for name, value in ((RESOURCE_TYPE, resource_type), (RESOURCE_TYPE_2, resource_type_2)):
            if value not in RESOURCE_TYPES:
                problem(name, "is not a known resource type")
        if resource_id_2 and (resource_type_2, resource_id_2) == (resource_type, resource_id):
            problem(RESOURCE_ID_2, "is the same resource as CLOUDFLARE_LIVE_RESOURCE_ID")
        scenario_values = dict(
            recipient_account_id=recipient,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_type_2=resource_type_2 if resource_id_2 else None,
            resource_id_2=resource_id_2,
        )

    if problems:
        return None, problems
    return Settings(
        base_url=base_url,
        account_id=account_id,
        token=token,
        email=email,
        key=key,
        wait_timeout=wait_timeout,
        **scenario_values,
    ), []


def refusal(problems, what):
    """The text printed instead of running: every problem on its own line."""
    lines = [
        "{} refused: {} setting{} missing or invalid; nothing was sent to any API:".format(
            what, len(problems), "" if len(problems) == 1 else "s"
        )
    ]
    lines += ["  " + line for line in problems]
    lines.append("See tests/live/README.md for what each variable is for and how to run the kit.")
    return "\n".join(lines)


def new_run_prefix(now=None):
    """``edgeops-live-<UTC yyyymmddHHMMSS>-<6 random hex>-``: unique per run, and what cleanup and sweep key on."""
    now = now or datetime.now(UTC)
    return "{}{}-{}-".format(PREFIX_ROOT, now.strftime("%Y%m%d%H%M%S"), secrets.token_hex(3))


def redact(text, secret_values):
    """``text`` with every secret (and its URL-encoded form) replaced: a last line of defence for printed errors."""
    for secret in secret_values:
        for form in (secret, urllib.parse.quote(secret, safe="")):
            text = text.replace(form, "***")
    return text


class ApiError(Exception):
    """The API answered with an error, or did not answer."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ApiClient:
    """Just enough of the Resource Sharing API for cleanup: list the account's shares, delete one.

    Every request is bounded (``timeout`` seconds each, at most ``max_retries`` retries of a 429 or a 5xx, waits
    capped by ``deadline``, a time.monotonic() value after which nothing more is sent).
    """

    def __init__(self, settings, timeout=20.0, max_retries=3, deadline=None):
        self.settings = settings
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.requests = 0

    def _remaining(self):
        return None if self.deadline is None else self.deadline - time.monotonic()

    def request(self, method, path, query=None):
        url = self.settings.base_url + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        for attempt in range(self.max_retries + 1):
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                raise ApiError(f"{method} {path}: not sent, the cleanup's time is up")
            headers = dict(self.settings.auth_headers, Accept="application/json")
            headers["User-Agent"] = USER_AGENT
            request = urllib.request.Request(url, method=method, headers=headers)
            timeout = self.timeout if remaining is None else max(1.0, min(self.timeout, remaining))
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return self._envelope(method, path, response.status, response.read())
            except urllib.error.HTTPError as error:
                status, body, retry_after = error.code, error.read(), error.headers.get("Retry-After")
                error.close()
                if (status == 429 or status >= 500) and attempt < self.max_retries:
                    self._pause(retry_after, attempt)
                    continue
                return self._envelope(method, path, status, body)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                reason = getattr(error, "reason", error)
                if attempt < self.max_retries and method in ("GET", "DELETE"):
                    self._pause(None, attempt)
                    continue
                raise ApiError(f"{method} {path}: no answer ({redact(str(reason), self.settings.secrets)})")
        raise ApiError(f"{method} {path}: gave up after {self.max_retries + 1} attempts")  # pragma: no cover

    def _pause(self, retry_after, attempt):
        wait = float(retry_after) if retry_after and retry_after.isdigit() else 0.5 * 2**attempt
        remaining = self._remaining()
        wait = min(wait, 30.0, remaining if remaining is not None else wait)
        if wait > 0:
            time.sleep(wait)  # a retry back-off, bounded by the deadline

    def _envelope(self, method, path, status, raw):
        try:
            body = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("success") is True and 200 <= status < 300:
            return body
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join("{} {}".format(e.get("code"), e.get("message")) for e in errors or [] if isinstance(e, dict))
        detail = detail or ("a body that is not the API's JSON envelope" if body is None else "no error given")
        raise ApiError(redact(f"{method} {path}: HTTP {status:d}: {detail}", self.settings.secrets), status)

    def sent_shares(self, name_prefix, per_page=50, max_pages=200):
        """The account's active sent shares whose name starts with ``name_prefix``, every page (bounded)."""
        found, seen = [], set()
        for page in range(1, max_pages + 1):
            body = self.request(
                "GET",
                f"/accounts/{self.settings.account_id}/shares",
                {"kind": "sent", "status": "active", "page": page, "per_page": per_page},
            )
            shares = [
                share for share in body.get("result") or [] if isinstance(share, dict) and share.get("id") not in seen
            ]
            seen.update(share.get("id") for share in shares)
            # The API is asked for these filters; a share that contradicts them is skipped: never touch what is not ours.
            found += [
                share
                for share in shares
                if str(share.get("name", "")).startswith(name_prefix)
                and share.get("kind", "sent") == "sent"
                and share.get("status", "active") == "active"
                and share.get("account_id", self.settings.account_id) == self.settings.account_id
            ]
            total_pages = (body.get("result_info") or {}).get("total_pages")
            if not shares or (isinstance(total_pages, int) and page >= total_pages):
                return found
        raise ApiError(f"more than {max_pages} pages of shares: stopped listing")

    def delete_share(self, share_id):
        return self.request("DELETE", f"/accounts/{self.settings.account_id}/shares/{share_id}")["result"]


@dataclass
class CleanupReport:
    """What a cleanup or sweep found, deleted, and could not delete."""

    prefix: str
    found: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (share or None, reason)
    remaining: list = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self):
        return not self.failed and not self.remaining

    def lines(self):
        def show(share):
            return "{} ({})".format(share.get("name"), share.get("id"))

        what = "dry run, nothing deleted:" if self.dry_run else "cleanup of"
        lines = [
            "{} {}*: {} active sent share{} found".format(
                what, self.prefix, len(self.found), "" if len(self.found) == 1 else "s"
            )
        ]
        if self.dry_run:
            lines += [f"  would delete {show(share)}" for share in self.found]
            return lines
        lines += [f"  deleted {show(share)}" for share in self.deleted]
        lines += [
            "  COULD NOT DELETE {}: {}".format(show(share) if share else "(listing)", reason)
            for share, reason in self.failed
        ]
        lines += [f"  STILL ACTIVE after the cleanup: {show(share)}" for share in self.remaining]
        if not self.ok:
            lines.append("  delete what is left with the sweep (tests/live/sweep.py) or in the dashboard")
        return lines


def delete_prefixed(settings, prefix, dry_run=False, time_limit=120.0):
    """Delete every active sent share of the account whose name starts with ``prefix``; bounded by ``time_limit``.

    Lists first (every page), then deletes, then lists again to report what is still active. A share whose delete
    fails is reported, and the others are still deleted.
    """
    if not prefix.startswith(PREFIX_ROOT):
        raise ValueError(f"refusing a cleanup prefix that does not start with {PREFIX_ROOT!r}: {prefix!r}")
    client = ApiClient(settings, deadline=time.monotonic() + time_limit)
    report = CleanupReport(prefix=prefix, dry_run=dry_run)
    try:
        report.found = client.sent_shares(prefix)
    except ApiError as error:
        report.failed.append((None, str(error)))
        return report
    if dry_run:
        return report
    for share in report.found:
        try:
            client.delete_share(share["id"])
        except ApiError as error:
            report.failed.append((share, str(error)))
        else:
            report.deleted.append(share)
    try:
        report.remaining = [
            share
            for share in client.sent_shares(prefix)
            if share["id"] not in {failed["id"] for failed, _reason in report.failed if failed}
        ]
    except ApiError as error:
        report.failed.append((None, f"listing again after the deletes: {error}"))
    return report
