# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Cloudflare API v4: auth, envelope, errors, retries, pagination.

Private to this collection: the interface may change without notice.
Only ansible-core is needed at run time.
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import time
import urllib.request

from http.client import HTTPException, IncompleteRead
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError
from ansible.module_utils.urls import open_url

from ._errors import CloudflareError, Interrupted

USER_AGENT = "edgeops.cloudflare (Ansible collection)"
BODY_PREVIEW_CHARS = 200
MAX_PAGES = 10000
PER_PAGE = 100

# Methods that may be repeated safely after an answer whose fate is unknown
# (timeout, dropped connection, 500/502/504): the server may have applied them.
IDEMPOTENT_METHODS = frozenset(("GET", "PUT", "DELETE"))
# Answers that mean "not processed, try again" for every method.
ALWAYS_RETRIED_STATUSES = frozenset((429, 503))
# Answers retried only for idempotent methods.
IDEMPOTENT_RETRIED_STATUSES = frozenset((500, 502, 504))


class TransportError(Exception):
    """No HTTP answer at all (refused, reset, timeout, TLS).

    ``sent``: the request may have reached the server; ``retryable``: trying again can help
    (a certificate that fails verification will fail again).
    """

    def __init__(self, message, sent, retryable=True):
        super().__init__(message)
        self.sent = sent
        self.retryable = retryable


TLS_HINT = (
    "Set ca_path to the CA certificate that signed the API's certificate "
    "(or, unsafe and for tests only, validate_certs: false)."
)
# OpenSSL's words for "the other side answered, but not with TLS" (plain HTTP on an https:// URL).
NOT_TLS_REASONS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "packet length too long",
    "unknown protocol",
    "http request",
)


def endpoint(url, proxies=None, bypass=None):
    """``host:port`` of the URL, and the proxy the request goes through (as urllib chooses it), for messages."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = "{}:{}".format(parts.hostname, parts.port or {"https": 443, "http": 80}.get(scheme, "?"))
    proxies = urllib.request.getproxies() if proxies is None else proxies
    bypass = urllib.request.proxy_bypass if bypass is None else bypass
    proxy = proxies.get(scheme)
    if proxy and not bypass(parts.netloc.rpartition("@")[2]):
        proxy_parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        return f"{host} (through the proxy {proxy_parts.hostname}:{proxy_parts.port or 80})"
    return host


def tls_error(error, where):
    if any(reason in str(error) for reason in NOT_TLS_REASONS):
        return TransportError(
            f"{where} does not speak TLS (the answer to the TLS handshake was not TLS): base_url says https://, "
            f"the server may be plain http:// ({error})",
            sent=False,
            retryable=False,
        )
    return TransportError(
        f"TLS certificate verification of {where} failed: {error}. {TLS_HINT}", sent=False, retryable=False
    )


def unsendable(where):
    return TransportError(
        f"the request to {where} could not be sent: a header value or the URL holds a character HTTP does not allow "
        "(the value is not shown, it may be a credential)",
        sent=False,
        retryable=False,
    )


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class RetryPolicy:
    """Bounded retries: ``max_retries`` more attempts, exponential backoff, a cap on the total wait."""

    def __init__(self, max_retries=4, backoff_base=0.25, max_backoff=8.0, max_total_wait=60.0):
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_total_wait = max_total_wait

    def backoff(self, attempt):
        return min(self.max_backoff, self.backoff_base * (2**attempt))


def open_url_transport(method, url, headers, body, timeout, validate_certs, ca_path):
    """Send one request with ansible-core's ``open_url``; return a RawResponse or raise TransportError."""
    try:
        response = open_url(
            url,
            data=body,
            headers=headers,
            method=method,
            timeout=timeout,
            validate_certs=validate_certs,
            ca_path=ca_path,
            http_agent=USER_AGENT,
            follow_redirects="none",
            use_netrc=False,
            force=True,
        )
        with response:
            return RawResponse(response.status, response.headers, response.read())
    except HTTPError as error:
        try:
            error_body = error.read()
        except (HTTPException, OSError):
            error_body = b""
        return RawResponse(error.code, error.headers, error_body)
    except (socket.timeout, TimeoutError):
        raise TransportError(f"timed out after {timeout} s waiting for {endpoint(url)}", sent=True)
    except URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLError):
            raise tls_error(reason, endpoint(url))
        if isinstance(reason, ValueError):
            raise unsendable(endpoint(url))
        refused = isinstance(reason, ConnectionRefusedError)
        raise TransportError(f"connection to {endpoint(url)} failed: {reason}", sent=not refused)
    except ssl.SSLError as error:
        raise tls_error(error, endpoint(url))
    except IncompleteRead as error:
        raise TransportError(
            f"truncated answer from {endpoint(url)} ({len(error.partial)} bytes read, {error.expected} more expected)",
            sent=True,
        )
    except SSLValidationError as error:
        raise tls_error(error, endpoint(url))
    except UrlsConnectionError as error:
        raise TransportError(f"connection to {endpoint(url)} failed: {error}", sent=False)
    except (HTTPException, OSError) as error:
        raise TransportError(f"connection to {endpoint(url)} failed: {error or type(error).__name__}", sent=True)
    except ValueError:
        raise unsendable(endpoint(url))


def format_errors(errors):
    """Render Cloudflare ``errors[]`` (with ``error_chain`` and ``source.pointer``) as one line."""
    parts = []
    for error in errors or ():
        if not isinstance(error, dict):
            parts.append(str(error))
            continue
        text = "[{}] {}".format(error.get("code", "?"), error.get("message", "(no message)"))
        pointer = (error.get("source") or {}).get("pointer") if isinstance(error.get("source"), dict) else None
        if pointer:
            text += f" (at {pointer})"
        chain = error.get("error_chain")
        if chain:
            text += " <- " + format_errors(chain)
        parts.append(text)
    return "; ".join(parts)


def error_codes(errors):
    codes = []
    for error in errors or ():
        if isinstance(error, dict):
            if "code" in error:
                codes.append(error["code"])
            codes.extend(error_codes(error.get("error_chain")))
    return codes


def error_hint(label, status, codes):
    """What an error usually means, for the errors Cloudflare documents or is known to give ("" if nothing to add)."""
    method, _space, path = label.partition(" ")
    if status == 403 and 10000 in codes:
        if path.startswith("/organizations/"):
            return (
                "Cloudflare's user API tokens support only some organization operations: for an organization's "
                "shares, use api_email with api_key, the Global API key"
            )
        if method != "GET":
            return (
                "a write needs a token with the account's Resource Sharing Edit permission, and a Read token "
                "can only read; or the credentials are wrong"
            )
        return "reading needs the account's Resource Sharing Read permission; or the credentials are wrong"
    segments = path.split("/")
    if status == 404 and 1004 in codes and len(segments) >= 5 and segments[1:4:2] == ["accounts", "shares"]:
        return f"no share {segments[4]} in account {segments[2]}"
    return ""


def body_preview(body):
    text = body.decode("utf-8", errors="replace")
    snippet = " ".join(text[:BODY_PREVIEW_CHARS].split())
    return "{!r}{}".format(snippet, "..." if len(text) > BODY_PREVIEW_CHARS else "")


def parse_retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 and math.isfinite(seconds) else None


class CloudflareClient:
    """Talks to one Cloudflare API root with one set of credentials.

    ``guard``: an object with ``stopped()`` and ``sleep(seconds)`` (see ``_guard.RunGuard``); once it
    says stopped, no further request is sent and back-off waits end early.
    """

    def __init__(
        self,
        base_url,
        auth_headers,
        timeout=30,
        validate_certs=True,
        ca_path=None,
        retry_policy=None,
        transport=open_url_transport,
        sleep=time.sleep,
        guard=None,
    ):
        self.base_url = base_url.rstrip("/")
        self._auth_headers = dict(auth_headers)
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.retry_policy = retry_policy or RetryPolicy()
        self._transport = transport
        self._sleep = guard.sleep if guard is not None else sleep
        self._guard = guard
        self.request_count = 0

    def sleep(self, seconds):
        """Wait, or less once the run is interrupted (see ``_guard``)."""
        self._sleep(seconds)

    @staticmethod
    def path(*segments):
        """Join path segments, each URL-escaped so no value can reach another path."""
        return "/" + "/".join(quote(str(segment), safe="") for segment in segments)

    def request(self, method, path, query=None, body=None):
        """Send a request with retries; return the decoded envelope of a successful answer."""
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        headers.update(self._auth_headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        label = f"{method} {path}"
        waited = 0.0
        attempt = 0
        while True:
            wait = None
            try:
                response = self._send(method, url, headers, data, label)
            except TransportError as error:
                if not error.retryable:
                    raise CloudflareError(f"{label}: {error}")
                if error.sent and method not in IDEMPOTENT_METHODS:
                    raise CloudflareError(
                        f"{label}: {error}; not retried because the request may have been applied "
                        "(re-run the task to converge)"
                    )
                failure = CloudflareError(f"{label}: {error}")
            else:
                if response.status == 204:
                    return {"success": True, "result": None}
                envelope, failure = self._decode(label, response)
                if failure is None:
                    return envelope
                if not self._retryable(method, response.status):
                    raise failure
                wait = parse_retry_after(response.headers) if response.status == 429 else None
            if wait is None:
                wait = self.retry_policy.backoff(attempt)
            policy = self.retry_policy
            if attempt >= policy.max_retries:
                raise CloudflareError(
                    f"{failure} after {attempt + 1} attempt(s)", status=failure.status, codes=failure.codes
                )
            if waited + wait > policy.max_total_wait:
                raise CloudflareError(
                    f"{failure} after {attempt + 1} attempt(s); the next retry would wait {wait:g} s, and "
                    f"max_retry_wait={policy.max_total_wait:g} s allows {max(0.0, policy.max_total_wait - waited):g} s more",
                    status=failure.status,
                    codes=failure.codes,
                )
            self._sleep(wait)
            waited += wait
            attempt += 1

    def _send(self, method, url, headers, data, label):
        if self._guard is not None and self._guard.stopped():
            raise Interrupted(f"{label}: not sent, the run was interrupted ({self._guard.reason})")
        self.request_count += 1
        return self._transport(method, url, headers, data, self.timeout, self.validate_certs, self.ca_path)

    @staticmethod
    def _retryable(method, status):
        if status in ALWAYS_RETRIED_STATUSES:
            return True
        return status in IDEMPOTENT_RETRIED_STATUSES and method in IDEMPOTENT_METHODS

    @staticmethod
    def _decode(label, response):
        """Return (envelope, None) for a successful answer, else (None, CloudflareError)."""
        try:
            envelope = json.loads(response.body.decode("utf-8"))
        except ValueError:
            content_type = (
                response.headers.get("Content-Type", "no content type") if response.headers else "no content type"
            )
            return None, CloudflareError(
                f"{label}: HTTP {response.status} with a body that is not Cloudflare JSON ({content_type}, "
                f"{len(response.body)} bytes): {body_preview(response.body)}",
                status=response.status,
            )
        if not isinstance(envelope, dict):
            return None, CloudflareError(
                f"{label}: HTTP {response.status} with an unexpected JSON body: {body_preview(response.body)}",
                status=response.status,
            )
        errors = envelope.get("errors") or []
        if 200 <= response.status < 300 and envelope.get("success", True) and not errors:
            return envelope, None
        detail = format_errors(errors) or "no error details (success: {})".format(envelope.get("success"))
        codes = error_codes(errors)
        hint = error_hint(label, response.status, codes)
        return None, CloudflareError(
            "{}: HTTP {}: {}{}".format(label, response.status, detail, hint and f" ({hint})"),
            status=response.status,
            codes=codes,
        )

    def get(self, path, query=None):
        return self.request("GET", path, query=query)["result"]

    def list_all(self, path, query=None):
        """Every item of a list endpoint.

        Asks for the unpaginated answer first (no page/per_page), then follows
        ``result_info`` if the API paginated anyway, choosing whichever of
        "continue at the API's page size" and "restart at 100 per page" costs fewer requests.
        """
        query = dict(query or {})
        envelope = self.request("GET", path, query=query)
        items = list(envelope.get("result") or [])
        info = envelope.get("result_info") or {}
        total = _int_or_none(info.get("total_count"))
        page_size = _int_or_none(info.get("per_page")) or len(items)
        if total is None or len(items) >= total or not items:
            return items
        remaining = total - len(items)
        if page_size < PER_PAGE and math.ceil(total / float(PER_PAGE)) < math.ceil(remaining / float(page_size)):
            items, pages_read, page_size = [], 0, PER_PAGE
        else:
            pages_read = _int_or_none(info.get("page")) or 1
        for page in range(pages_read + 1, pages_read + 1 + MAX_PAGES):
            query.update(page=page, per_page=page_size)
            batch = self.request("GET", path, query=query).get("result") or []
            items.extend(batch)
            if len(batch) < page_size or len(items) >= total:
                break
        return items


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
