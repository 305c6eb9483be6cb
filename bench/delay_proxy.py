"""A TCP proxy that adds a fixed delay to every NEW connection, and none to the bytes after it.

It stands for the cost of opening a connection to a far API (TCP handshake round trip,
plus TLS round trips, which go through it unchanged): a client that reuses its
connection pays the delay once, one that opens a connection per request pays it
every time. The bench puts it in front of the emulator served over HTTPS.

    with DelayProxy(("127.0.0.1", emulator_port), delay_seconds=0.02) as proxy:
        url = "https://127.0.0.1:%d/client/v4" % proxy.port
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class DelayProxy:
    def __init__(self, upstream, delay_seconds=0.02):
        self.upstream = upstream
        self.delay_seconds = delay_seconds
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._stopped = False

    @property
    def port(self):
        return self._listener.getsockname()[1]

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self._stopped = True
        self._listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _accept(self):
        while not self._stopped:
            try:
                client = self._listener.accept()[0]
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        time.sleep(self.delay_seconds)
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        _pump(upstream, client)


def _pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
