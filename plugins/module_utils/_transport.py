# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A keep-alive transport for CloudflareClient on the standard library's http.client.

``open_url`` (the default transport) opens a new connection, TLS handshake included,
for every request and builds a new SSL context (loading the CA bundle) every time.
``KeepAliveTransport`` keeps one connection per thread and per origin open across
requests and builds each SSL context once, with everything else the same as the
``open_url`` path:

- certificates: the SSL context comes from ansible-core's own ``make_context`` with the
  same arguments ``open_url`` passes (``validate_certs``, ``ca_path``);
- proxies: the same environment variables and rules as urllib's ``ProxyHandler``
  (``https_proxy``/``HTTPS_PROXY`` for https:// URLs, ``http_proxy`` for http://,
  ``no_proxy``/``NO_PROXY`` to bypass; a CONNECT tunnel for https, user:password in
  the proxy URL becomes ``Proxy-Authorization``);
- timeouts, redirects (never followed), gzip answers, and errors: the same
  ``RawResponse``/``TransportError`` results, with ``sent`` decided as on the
  ``open_url`` path, so the client's retry rules are unchanged.

A kept-alive connection that the server closed while idle is noticed before reuse
and replaced; a request is never sent twice by this module (retries stay in the client).

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import select
import socket
import ssl
import threading
import urllib.request

from urllib.parse import unquote, urlsplit

from ._client import USER_AGENT, RawResponse, TransportError, tls_error, unsendable

DEFAULT_PORTS = {"http": 80, "https": 443}


def _default_context_factory(validate_certs, ca_path):
    # Imported here: only HTTPS needs it, and it is the exact context open_url would build.
    from ansible.module_utils.urls import make_context

    return make_context(cafile=ca_path, validate_certs=validate_certs)


class Route:
    """Where a request's connection goes: the origin, and the proxy in between (if any)."""

    def __init__(self, scheme, host, port, proxy_host=None, proxy_port=None, proxy_auth=None):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.proxy_auth = proxy_auth

    @property
    def key(self):
        return (self.scheme, self.host, self.port, self.proxy_host, self.proxy_port, self.proxy_auth)

    @property
    def origin(self):
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def where(self):
        """``host:port``, and the proxy in between, for messages (as ``_client.endpoint`` says it)."""
        if self.proxy_host:
            return f"{self.host}:{self.port} (through the proxy {self.proxy_host}:{self.proxy_port})"
        return f"{self.host}:{self.port}"


def proxy_route(url, proxies=None, bypass=None):
    """The Route of ``url``, choosing a proxy exactly as urllib's ProxyHandler does.

    ``proxies`` defaults to ``urllib.request.getproxies()`` and ``bypass`` to
    ``urllib.request.proxy_bypass`` (both read the *_proxy environment variables).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise TransportError(f"unsupported URL {url!r}", sent=False)
    host, port = parts.hostname, parts.port or DEFAULT_PORTS[scheme]
    proxies = urllib.request.getproxies() if proxies is None else proxies
    bypass = urllib.request.proxy_bypass if bypass is None else bypass
    proxy = proxies.get(scheme)
    netloc = parts.netloc.rpartition("@")[2]
    if not proxy or bypass(netloc):
        return Route(scheme, host, port)
    if "://" not in proxy:
        proxy = "http://" + proxy
    proxy_parts = urlsplit(proxy)
    auth = None
    if proxy_parts.username and proxy_parts.password:
        credentials = f"{unquote(proxy_parts.username)}:{unquote(proxy_parts.password)}"
        auth = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    proxy_port = proxy_parts.port or DEFAULT_PORTS.get(proxy_parts.scheme.lower(), 80)
    return Route(scheme, host, port, unquote(proxy_parts.hostname or ""), proxy_port, auth)


def _is_dropped(sock):
    """True when an idle kept-alive socket is readable: the server closed it (or broke the protocol)."""
    if sock is None:
        return True
    try:
        readable = select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return True
    return bool(readable)


class KeepAliveTransport:
    """Callable transport ``(method, url, headers, body, timeout, validate_certs, ca_path) -> RawResponse``.

    Thread-safe: each thread has its own connections (one per route); ``close()``
    closes every connection of every thread. ``connections_opened`` counts new
    connections, ``requests_sent`` counts requests.
    """

    def __init__(self, context_factory=_default_context_factory, proxies=None, bypass=None, user_agent=USER_AGENT):
        self._context_factory = context_factory
        self._proxies = proxies
        self._bypass = bypass
        self._user_agent = user_agent
        self._local = threading.local()
        self._lock = threading.Lock()
        self._contexts = {}
        self._routes = {}
        self._all_connections = []
        self.connections_opened = 0
        self.requests_sent = 0

    # --- connections -------------------------------------------------------------------------------------

    def _route(self, url):
        origin = url.split("/", 3)[:3]
        key = "/".join(origin)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = proxy_route(url, self._proxies, self._bypass)
        return route

    def _context(self, validate_certs, ca_path):
        key = (bool(validate_certs), ca_path)
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                context = self._contexts[key] = self._context_factory(validate_certs, ca_path)
            return context

    def _new_connection(self, route, timeout, validate_certs, ca_path):
        host, port = (route.proxy_host, route.proxy_port) if route.proxy_host else (route.host, route.port)
        if route.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=self._context(validate_certs, ca_path)
            )
            if route.proxy_host:
                tunnel_headers = {"Proxy-Authorization": route.proxy_auth} if route.proxy_auth else None
                connection.set_tunnel(route.host, route.port, headers=tunnel_headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        with self._lock:
            self.connections_opened += 1
            self._all_connections.append(connection)
        return connection

    def _connection(self, route, timeout, validate_certs, ca_path):
        """This thread's connection for the route: (connection, reused)."""
        pool = getattr(self._local, "connections", None)
        if pool is None:
            pool = self._local.connections = {}
        key = route.key + ((bool(validate_certs), ca_path) if route.scheme == "https" else ())
        connection = pool.get(key)
        if connection is not None and connection.sock is not None and not _is_dropped(connection.sock):
            if connection.timeout != timeout:
                connection.timeout = timeout
                connection.sock.settimeout(timeout)
            return connection, True
        if connection is not None:
            connection.close()
        connection = pool[key] = self._new_connection(route, timeout, validate_certs, ca_path)
        return connection, False

    def close(self):
        with self._lock:
            connections, self._all_connections = self._all_connections, []
        for connection in connections:
            connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- one request -------------------------------------------------------------------------------------

    def _headers(self, route, headers):
        # The headers open_url(http_agent=USER_AGENT, force=True) sends, minus "Connection: close".
        sent = {"User-Agent": self._user_agent, "Cache-Control": "no-cache"}
        sent.update(headers)
        if route.proxy_host and route.scheme == "http" and route.proxy_auth:
            sent["Proxy-Authorization"] = route.proxy_auth
        return sent

    def __call__(self, method, url, headers, body, timeout, validate_certs, ca_path):
        route = self._route(url)
        parts = urlsplit(url)
        # Through a plain-HTTP proxy the request line carries the absolute URL, as urllib sends it.
        target = (
            url
            if (route.proxy_host and route.scheme == "http")
            else (parts.path or "/") + ("?" + parts.query if parts.query else "")
        )
        connection = self._connection(route, timeout, validate_certs, ca_path)[0]
        with self._lock:
            self.requests_sent += 1
        where = route.where
        # Phase 1, as urllib's do_open: connect and send; any OSError here is a URLError there.
        try:
            connection.request(method, target, body=body, headers=self._headers(route, headers))
        except ssl.SSLError as error:
            connection.close()
            raise tls_error(error, where)
        except OSError as error:
            connection.close()
            refused = isinstance(error, ConnectionRefusedError)
            raise TransportError(f"connection to {where} failed: {error}", sent=not refused)
        except http.client.HTTPException as error:
            connection.close()
            raise TransportError(f"connection to {where} failed: {error or type(error).__name__}", sent=True)
        except ValueError:
            connection.close()
            raise unsendable(where)
        # Phase 2: the answer.
        try:
            response = connection.getresponse()
            data = response.read()
        except (socket.timeout, TimeoutError):
            connection.close()
            raise TransportError(f"timed out after {timeout} s waiting for {where}", sent=True)
        except ssl.SSLError as error:
            connection.close()
            raise tls_error(error, where)
        except http.client.IncompleteRead as error:
            connection.close()
            raise TransportError(
                f"truncated answer from {where} ({len(error.partial)} bytes read, {error.expected} more expected)",
                sent=True,
            )
        except (http.client.HTTPException, OSError) as error:
            connection.close()
            raise TransportError(f"connection to {where} failed: {error or type(error).__name__}", sent=True)
        if response.will_close:
            connection.close()
        if (response.getheader("Content-Encoding") or "").lower() == "gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as error:
                raise TransportError(f"bad gzip answer from {where}: {error}", sent=True)
        return RawResponse(response.status, response.msg, data)
