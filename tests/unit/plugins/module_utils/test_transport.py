"""The keep-alive transport against real local servers (HTTP, HTTPS with a test CA, a CONNECT proxy).

Every failure mode is checked for parity with the open_url transport: the same
TransportError message, ``sent`` and ``retryable``, so the client's retry rules apply unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import socket
import ssl
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import (
    USER_AGENT,
    CloudflareClient,
    TransportError,
    open_url_transport,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._transport import KeepAliveTransport, proxy_route

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            {
                "method": self.command,
                "target": self.path,
                "peer": self.client_address[1],
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }
        )
        path = "/" + self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]  # the last segment names the behaviour
        if path == "/drop":
            self.close_connection = True
            return
        if path == "/hang":
            time.sleep(2)
            self.close_connection = True
            return
        if path == "/truncate":
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"resu')
            self.close_connection = True
            return
        status, extra, payload = (
            200,
            {},
            json.dumps({"success": True, "result": {"path": path, "peer": self.client_address[1]}}).encode(),
        )
        if path == "/gzip":
            payload, extra = gzip.compress(payload), {"Content-Encoding": "gzip"}
        if path == "/close":
            extra = {"Connection": "close"}
            self.close_connection = True
        if path == "/idle-close":
            self.close_connection = True  # no Connection: close header: the client believes it may reuse it
        if path == "/limited":
            status, extra = 429, {"Retry-After": "2"}
        if path == "/html":
            status, payload, extra = 502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n"
        head += "".join("{}: {}\r\n".format(*item) for item in extra.items())
        if "Content-Type" not in extra:
            head += "Content-Type: application/json\r\n"
        self.wfile.write(head.encode() + b"\r\n" + payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Silent: failed handshakes are what some tests are about."""


class Server:
    def __init__(self, context=None):
        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.seen = []
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.scheme = "https" if context else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    @property
    def seen(self):
        return self.httpd.seen

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ConnectProxy:
    """A CONNECT-only forward proxy that records each tunnel request."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.tunnels = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://user:p%40ss@127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode()
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        self.tunnels.append({"request": lines[0], "auth": headers.get("Proxy-Authorization")})
        host, port = lines[0].split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(source, target):
            try:
                while True:
                    chunk = source.recv(65536)
                    if not chunk:
                        break
                    target.sendall(chunk)
            except OSError:
                pass
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        pump(upstream, client)

    def stop(self):
        self.listener.close()


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def server():
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def tls_server(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    running = Server(context)
    yield running
    running.stop()


@pytest.fixture
def transport():
    with KeepAliveTransport() as keep_alive:
        yield keep_alive


def call(transport, url, method="GET", body=None, timeout=5, validate_certs=True, ca_path=None, headers=None):
    return transport(method, url, headers or {"Accept": "application/json"}, body, timeout, validate_certs, ca_path)


def failure(transport, url, **kwargs):
    with pytest.raises(TransportError) as info:
        call(transport, url, **kwargs)
    error = info.value
    return (str(error), error.sent, getattr(error, "retryable", True))


def result(response):
    return json.loads(response.body)["result"]


# --- keep-alive --------------------------------------------------------------------------------------------


def test_one_connection_for_many_requests(server, transport):
    peers = {result(call(transport, server.url(f"/ok?n={n}")))["peer"] for n in range(20)}
    assert len(peers) == 1 and transport.connections_opened == 1 and transport.requests_sent == 20
    assert [entry["target"] for entry in server.seen[:2]] == ["/ok?n=0", "/ok?n=1"]


def test_headers_and_body_as_open_url_sends_them_minus_connection_close(server, transport):
    call(
        transport,
        server.url("/ok"),
        method="POST",
        body=b'{"name": "n"}',
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
    )
    open_url_transport(
        "POST",
        server.url("/ok"),
        {"Authorization": "Bearer t", "Content-Type": "application/json"},
        b'{"name": "n"}',
        5,
        True,
        None,
    )
    ours, theirs = server.seen[0]["headers"], server.seen[1]["headers"]
    assert ours["user-agent"] == theirs["user-agent"] == USER_AGENT
    assert ours["authorization"] == "Bearer t" and ours["content-length"] == "13"
    assert ours["cache-control"] == theirs["cache-control"] == "no-cache"
    assert "connection" not in ours and theirs["connection"] == "close"
    assert server.seen[0]["body"] == server.seen[1]["body"] == '{"name": "n"}'


def test_each_thread_has_its_own_connection(server, transport):
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        return {result(call(transport, server.url("/ok")))["peer"] for dummy in range(5)}

    threads = []
    peers = []
    for dummy in range(4):
        thread = threading.Thread(target=lambda: peers.append(work()))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    assert all(len(p) == 1 for p in peers) and len(set().union(*peers)) == 4
    assert transport.connections_opened == 4 and transport.requests_sent == 20


def test_connection_close_and_idle_close_by_the_server_reconnect_silently(server, transport):
    first = result(call(transport, server.url("/close")))["peer"]
    second = result(call(transport, server.url("/idle-close")))["peer"]
    time.sleep(0.5)  # the server has closed the kept-alive connection by now
    third = result(call(transport, server.url("/ok")))["peer"]
    assert len({first, second, third}) == 3 and transport.connections_opened == 3


def test_gzip_answer_is_decoded_and_error_statuses_are_answers(server, transport):
    assert result(call(transport, server.url("/gzip")))["path"] == "/gzip"
    answer = call(transport, server.url("/limited"))
    assert answer.status == 429 and answer.headers.get("retry-after") == "2"
    answer = call(transport, server.url("/html"))
    assert answer.status == 502 and answer.body == b"<html>bad gateway</html>"
    assert transport.connections_opened == 1


def test_client_retries_429_over_the_kept_alive_connection(server, transport):
    sleeps = []
    client = CloudflareClient(
        server.url("/client/v4"), {"Authorization": "Bearer t"}, transport=transport, sleep=sleeps.append
    )
    with pytest.raises(Exception) as info:
        client.request("GET", "/limited")
    assert "after 5 attempt(s)" in str(info.value) and sleeps == [2.0] * 4
    assert transport.connections_opened == 1 and len(server.seen) == 5


# --- failures: the same TransportError as the open_url path ------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("path, timeout", [("/drop", 5), ("/truncate", 5), ("/hang", 0.5)])
def test_failures_match_the_open_url_path(server, transport, path, timeout):
    ours = failure(transport, server.url(path), timeout=timeout)
    theirs = failure(open_url_transport, server.url(path), timeout=timeout)
    assert ours == theirs
    assert ours[1] is True  # the request may have been applied: a POST is not retried


def test_failure_on_a_reused_connection_matches_too(server, transport):
    call(transport, server.url("/ok"))
    assert failure(transport, server.url("/drop")) == failure(open_url_transport, server.url("/drop"))
    call(transport, server.url("/ok"))
    assert transport.connections_opened == 2


def test_refused_connection_matches_and_is_not_sent():
    url = f"http://127.0.0.1:{free_port()}/x"
    with KeepAliveTransport() as keep_alive:
        ours = failure(keep_alive, url)
    assert ours == failure(open_url_transport, url)
    assert ours[1] is False


# --- TLS ---------------------------------------------------------------------------------------------------


def test_https_with_ca_path_keeps_the_connection(tls_server, transport, ca_file):
    peers = {result(call(transport, tls_server.url("/ok"), ca_path=ca_file))["peer"] for dummy in range(5)}
    assert len(peers) == 1 and transport.connections_opened == 1


def test_untrusted_certificate_matches_the_open_url_path(tls_server, transport):
    ours = failure(transport, tls_server.url("/ok"))
    assert ours == failure(open_url_transport, tls_server.url("/ok"))
    assert "CERTIFICATE_VERIFY_FAILED" in ours[0]


def test_validate_certs_false_accepts_the_certificate(tls_server, transport):
    assert result(call(transport, tls_server.url("/ok"), validate_certs=False))["path"] == "/ok"


def test_ssl_context_is_built_once_per_settings(tls_server, ca_file):
    built = []

    def factory(validate_certs, ca_path):
        built.append((validate_certs, ca_path))
        context = ssl.create_default_context(cafile=ca_path)
        if not validate_certs:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context

    with KeepAliveTransport(context_factory=factory) as keep_alive:
        for dummy in range(3):
            call(keep_alive, tls_server.url("/ok"), ca_path=ca_file)
        call(keep_alive, tls_server.url("/ok"), validate_certs=False)
    assert built == [(True, ca_file), (False, None)]


# --- proxies -----------------------------------------------------------------------------------------------


def test_https_proxy_tunnel_with_credentials_like_urllib(tls_server, ca_file, monkeypatch):
    proxy = ConnectProxy()
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    try:
        with KeepAliveTransport() as keep_alive:
            for dummy in range(3):
                call(keep_alive, tls_server.url("/ok"), ca_path=ca_file)
        open_url_transport("GET", tls_server.url("/ok"), {}, None, 5, True, ca_file)
    finally:
        proxy.stop()
    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    request = f"CONNECT 127.0.0.1:{tls_server.port} HTTP/1.0"
    assert [t["auth"] for t in proxy.tunnels] == [expected, expected]  # one tunnel kept alive, one for open_url
    assert {t["request"].rsplit(" ", 1)[0] for t in proxy.tunnels} == {request.rsplit(" ", 1)[0]}
    assert all("proxy-authorization" not in entry["headers"] for entry in tls_server.seen)


def test_no_proxy_bypasses_the_proxy(tls_server, ca_file, monkeypatch):
    proxy = ConnectProxy()
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        with KeepAliveTransport() as keep_alive:
            call(keep_alive, tls_server.url("/ok"), ca_path=ca_file)
        open_url_transport("GET", tls_server.url("/ok"), {}, None, 5, True, ca_file)
    finally:
        proxy.stop()
    assert proxy.tunnels == [] and len(tls_server.seen) == 2


def test_plain_http_proxy_gets_the_absolute_url(server, transport, monkeypatch):
    # The test server plays the proxy: it records the request line's target.
    monkeypatch.setenv("HTTP_PROXY", f"http://u:pw@127.0.0.1:{server.port}")
    call(transport, "http://api.example.test/client/v4/ok?a=1")
    open_url_transport("GET", "http://api.example.test/client/v4/ok?a=1", {}, None, 5, True, None)
    ours, theirs = server.seen
    assert ours["target"] == theirs["target"] == "http://api.example.test/client/v4/ok?a=1"
    assert ours["headers"]["host"] == theirs["headers"]["host"] == "api.example.test"
    assert ours["headers"]["proxy-authorization"] == theirs["headers"]["proxy-authorization"]


def test_proxy_route_rules():
    proxies = {"https": "proxy.internal:3128", "http": "http://h:8080", "no": "skip.example"}

    def bypass(host):
        return host.startswith("skip.example")

    route = proxy_route("https://api.cloudflare.com/client/v4", proxies, bypass)
    assert (route.host, route.port, route.proxy_host, route.proxy_port, route.proxy_auth) == (
        "api.cloudflare.com",
        443,
        "proxy.internal",
        3128,
        None,
    )
    assert proxy_route("https://skip.example/client/v4", proxies, bypass).proxy_host is None
    assert proxy_route("https://x.example/", {"http": "http://h:1"}, bypass).proxy_host is None  # no https proxy
    with pytest.raises(TransportError):
        proxy_route("ftp://x.example/", proxies, bypass)
