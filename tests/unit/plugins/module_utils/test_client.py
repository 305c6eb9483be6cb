"""Unit tests of the HTTP client with a stubbed transport (the same behaviours are also tested over real HTTP)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import (
    CloudflareClient,
    RawResponse,
    RetryPolicy,
    TransportError,
    format_errors,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import CloudflareError

BASE = "https://api.example.test/client/v4"


def envelope(result=None, errors=(), success=True, result_info=None):
    body = {"success": success, "errors": list(errors), "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def answer(status=200, body=None, headers=None, raw=None):
    payload = raw if raw is not None else json.dumps(envelope() if body is None else body).encode()
    return RawResponse(status, headers or {"Content-Type": "application/json"}, payload)


class StubTransport:
    """Replays scripted answers (RawResponse or exception) and records each call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, method, url, headers, body, timeout, validate_certs, ca_path):
        self.calls.append({"method": method, "url": url, "headers": headers, "body": body and json.loads(body)})
        item = self.answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def client(transport, **kwargs):
    """A client on the stub transport; ``client.slept`` lists the back-off waits it asked for."""
    slept = []
    instance = CloudflareClient(
        BASE, {"Authorization": "Bearer secret-token"}, transport=transport, sleep=slept.append, **kwargs
    )
    instance.slept = slept
    return instance


def test_sends_auth_json_and_escaped_path():
    transport = StubTransport(answer(body=envelope({"id": "x"})))
    api = client(transport)
    path = api.path("accounts", "a/../b", "shares")
    assert api.request("POST", path, query={"kind": "sent"}, body={"name": "n"})["result"] == {"id": "x"}
    call = transport.calls[0]
    assert call["url"] == BASE + "/accounts/a%2F..%2Fb/shares?kind=sent"
    assert call["headers"]["Authorization"] == "Bearer secret-token"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["body"] == {"name": "n"}


def test_error_message_has_status_codes_chain_and_pointer():
    errors = [
        {
            "code": 6003,
            "message": "Invalid request headers",
            "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}],
        },
        {"code": 1001, "message": "name is required", "source": {"pointer": "/name"}},
    ]
    api = client(StubTransport(answer(400, envelope(errors=errors, success=False))))
    with pytest.raises(CloudflareError) as info:
        api.request("GET", "/x")
    assert str(info.value) == (
        "GET /x: HTTP 400: [6003] Invalid request headers <- [6111] Invalid format for "
        "Authorization header; [1001] name is required (at /name)"
    )
    assert info.value.codes == (6003, 6111, 1001) and info.value.status == 400
    assert api.slept == []


def test_success_false_with_200_is_an_error():
    api = client(StubTransport(answer(200, envelope(errors=[{"code": 7000, "message": "nope"}], success=False))))
    with pytest.raises(CloudflareError, match=r"HTTP 200: \[7000\] nope"):
        api.request("GET", "/x")


def test_429_honours_retry_after_then_succeeds():
    transport = StubTransport(
        answer(
            429, envelope(success=False, errors=[{"code": 971, "message": "slow down"}]), headers={"Retry-After": "3"}
        ),
        answer(),
    )
    api = client(transport)
    api.request("POST", "/x", body={})
    assert api.slept == [3.0] and len(transport.calls) == 2


def test_three_503_then_success_with_exponential_backoff():
    transport = StubTransport(*[answer(503, envelope(success=False))] * 3 + [answer()])
    api = client(transport)
    api.request("GET", "/x")
    assert api.slept == [0.25, 0.5, 1.0]


def test_retries_are_bounded_and_counted_in_the_message():
    transport = StubTransport(*[answer(503, envelope(success=False))] * 5)
    api = client(transport)
    with pytest.raises(CloudflareError, match="after 5 attempt"):
        api.request("GET", "/x")
    assert len(api.slept) == 4


def test_total_wait_cap_stops_long_retry_after():
    transport = StubTransport(answer(429, envelope(success=False), headers={"Retry-After": "3600"}))
    api = client(transport, retry_policy=RetryPolicy(max_total_wait=60))
    with pytest.raises(CloudflareError, match="HTTP 429"):
        api.request("GET", "/x")
    assert api.slept == []


def test_permanent_4xx_is_not_retried():
    transport = StubTransport(answer(404, envelope(success=False, errors=[{"code": 1, "message": "gone"}])))
    api = client(transport)
    with pytest.raises(CloudflareError):
        api.request("GET", "/x")
    assert api.slept == [] and len(transport.calls) == 1


def test_html_502_is_reported_with_a_preview_not_a_traceback():
    page = b"<html><body><h1>502 Bad Gateway</h1>" + b"x" * 500 + b"</body></html>"
    transport = StubTransport(*[answer(502, raw=page, headers={"Content-Type": "text/html"})] * 5)
    api = client(transport)
    with pytest.raises(CloudflareError) as info:
        api.request("GET", "/x")
    message = str(info.value)
    assert "HTTP 502 with a body that is not Cloudflare JSON (text/html" in message
    assert "<html><body><h1>502 Bad Gateway</h1>" in message and len(message) < 400


def test_post_is_not_retried_after_an_ambiguous_failure():
    transport = StubTransport(TransportError("timed out after 30 s", sent=True))
    api = client(transport)
    with pytest.raises(CloudflareError, match="not retried because the request may have been applied"):
        api.request("POST", "/x", body={})
    assert api.slept == []


def test_post_is_retried_when_the_connection_was_refused():
    transport = StubTransport(TransportError("connection failed: refused", sent=False), answer())
    api = client(transport)
    api.request("POST", "/x", body={})
    assert len(api.slept) == 1


def test_502_is_retried_for_get_but_not_for_post():
    transport = StubTransport(answer(502, envelope(success=False)), answer())
    api = client(transport)
    api.request("GET", "/x")
    transport = StubTransport(answer(502, envelope(success=False)))
    api = client(transport)
    with pytest.raises(CloudflareError, match="HTTP 502"):
        api.request("POST", "/x", body={})


def test_204_is_success_without_body():
    api = client(StubTransport(answer(204, raw=b"")))
    assert api.request("PUT", "/x", body=[])["result"] is None


def test_list_all_uses_one_unpaginated_request_when_possible():
    items = [{"id": n} for n in range(250)]
    transport = StubTransport(
        answer(body=envelope(items, result_info={"page": 1, "per_page": 250, "count": 250, "total_count": 250}))
    )
    api = client(transport)
    assert api.list_all("/x") == items and len(transport.calls) == 1
    assert "page" not in transport.calls[0]["url"]


def test_list_all_follows_pagination_at_the_api_page_size():
    items = [{"id": n} for n in range(245)]
    pages = [
        answer(body=envelope(items[i : i + 80], result_info={"page": i // 80 + 1, "per_page": 80, "total_count": 245}))
        for i in (0, 80, 160, 240)
    ]
    transport = StubTransport(*pages)
    api = client(transport)
    assert api.list_all("/x") == items
    assert [c["url"].split("?")[-1] for c in transport.calls[1:]] == [
        "page=2&per_page=80",
        "page=3&per_page=80",
        "page=4&per_page=80",
    ]


def test_list_all_restarts_at_100_per_page_when_cheaper():
    items = [{"id": n} for n in range(250)]
    first = answer(body=envelope(items[:20], result_info={"page": 1, "per_page": 20, "total_count": 250}))
    pages = [
        answer(
            body=envelope(items[i : i + 100], result_info={"page": i // 100 + 1, "per_page": 100, "total_count": 250})
        )
        for i in (0, 100, 200)
    ]
    transport = StubTransport(first, *pages)
    api = client(transport)
    assert api.list_all("/x") == items and len(transport.calls) == 4


def test_format_errors_tolerates_odd_shapes():
    assert format_errors(["plain", {"message": "m"}]) == "plain; [?] m"


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "hint"),
    [
        (
            "POST",
            "/accounts/a/shares",
            403,
            10000,
            "a write needs a token with the account's Resource Sharing Edit permission",
        ),
        ("GET", "/accounts/a/shares", 403, 10000, "reading needs the account's Resource Sharing Read permission"),
        ("GET", "/organizations/o/shares", 403, 10000, "use api_email with api_key, the Global API key"),
        ("GET", "/accounts/a/shares/s/recipients", 404, 1004, "no share s in account a"),
    ],
)
def test_documented_errors_say_what_they_usually_mean(method, path, status, code, hint):
    errors = [{"code": code, "message": "Authentication error" if code == 10000 else "Share not found"}]
    api = client(StubTransport(answer(status, envelope(errors=errors, success=False))))
    with pytest.raises(CloudflareError) as info:
        api.request(method, path)
    assert str(info.value).endswith(f"({hint})") or hint in str(info.value), str(info.value)
    assert info.value.status == status and info.value.codes == (code,)
