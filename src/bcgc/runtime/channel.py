"""The direct TCP channel of the Ray engine (docs/runtime.md): length-prefixed pickled messages,
the worker's end (:class:`Channel`: accept the master's connection, serve its rounds) and the
master's (:func:`connect`, :func:`send`)."""

from __future__ import annotations

import contextlib
import hmac
import pickle
import socket
import struct
import threading
import traceback

__all__ = ["HEADER", "SEND_TIMEOUT", "Channel", "connect", "send", "recv_exact"]

HEADER = struct.Struct("!Q")  # the length of each pickled message
SEND_TIMEOUT = 10.0  # a worker that reads none of its messages for this long is dead


def send(sock, lock, message) -> None:
    data = pickle.dumps(message, protocol=5)
    with lock:
        sock.sendall(HEADER.pack(len(data)) + data)


def recv_exact(sock, size: int) -> bytearray:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


class Channel:
    """The worker's end: accept the master's connection (it must send ``key`` first), then serve
    it: each ``run`` message is a round computed in its own thread, one round at a time (the
    worker's round lock), ``cancel`` wakes it."""

    def __init__(self, core, key: bytes, ip: str):
        self.core, self.key, self.lock, self.scheme = core, key, threading.Lock(), None
        self.listener = socket.create_server((ip, 0), family=socket.AF_INET6 if ":" in ip else socket.AF_INET)

    def serve(self):
        while True:  # a stray connection (a port scan) never becomes the master's
            sock, _ = self.listener.accept()
            sock.settimeout(10.0)
            with contextlib.suppress(OSError, EOFError):
                if hmac.compare_digest(bytes(recv_exact(sock, len(self.key))), self.key):
                    break
            sock.close()
        self.listener.close()
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(EOFError, OSError):  # the master has gone: nothing left to serve
            while True:
                kind, *args = pickle.loads(recv_exact(sock, HEADER.unpack(recv_exact(sock, HEADER.size))[0]))
                if kind == "cancel":
                    self.core.cancel(*args)
                    continue
                if args[3] is not None:  # a new design: its scheme comes once, before its first round
                    self.scheme = pickle.loads(args[3])
                args[3] = self.scheme
                threading.Thread(target=self._round, args=(sock, *args), daemon=True).start()

    def _round(self, sock, iteration, theta, t_n, scheme, mode, unit, t=None):
        """One round, in its own thread; it computes once the worker's previous round has ended
        (``WorkerCore``'s round lock), and a broken connection closes it (releasing the lock)."""
        with contextlib.suppress(OSError):
            try:
                with contextlib.closing(self.core.run(iteration, theta, t_n, scheme, mode, unit, t)) as blocks:
                    for level, vec, spent, stamp in blocks:
                        send(sock, self.lock, ("arrival", iteration, level, vec, spent, stamp))
            except Exception:  # worker code raised: send the plain Python traceback, then stop
                send(sock, self.lock, ("failure", traceback.format_exc()))
            send(sock, self.lock, ("ended", iteration))


def connect(address, key):
    sock = socket.create_connection(address, timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(key)
    sock.settimeout(SEND_TIMEOUT)
    return sock
