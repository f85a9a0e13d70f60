#!/usr/bin/env python3
"""
browser.py -- the requests a browser makes when it shows the lab's page,
twice, replayed from plain sockets so every run sends the same thing:

  visit    connection A: GET /hello                           -> 200
           connections B and C, opened side by side:
             GET /css/synack.css, GET /img/logo.png           -> 200, 200
  reload   the same three on the same keep-alive connections, now with
           the validators the browser kept (If-None-Match with the ETag,
           If-Modified-Since with Last-Modified)             -> 304 x 3
           A: GET /apple-touch-icon.png (Safari asks every site for it;
              synack's site has none)                         -> 404
  leave    the browser closes B and C (the client sends the first FIN);
           A stays open and idle until synack's --idle-timeout closes it
           (synack sends the first FIN), and the browser closes its side.

Prints one line per response: connection, request, status, local port.
Usage: browser.py HOST [IDLE_WAIT_SECONDS]
"""
import socket
import sys
import time

UA = "synack-demo/1.0 (the lab's browser requests, replayed)"
ACCEPT = {
    "/hello": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "/css/synack.css": "text/css,*/*;q=0.1",
    "/img/logo.png": "image/avif,image/webp,image/png,image/*,*/*;q=0.8",
}
TIMEOUT = 10


class Conn:
    """One keep-alive connection, as a browser holds it."""

    def __init__(self, name, host):
        self.name, self.host = name, host
        self.sock = socket.create_connection((host, 80), timeout=TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.buf = b""

    def send(self, path, extra=()):
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % self.host, "User-Agent: " + UA,
                 "Accept: " + ACCEPT.get(path, "*/*"), "Accept-Language: en",
                 "Connection: keep-alive"] + list(extra)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection %s closed mid-response" % self.name)
        self.buf += data

    def response(self):
        """(status, headers): reads one response, its content by Content-Length."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        length = 0 if status == 304 else int(fields.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        self.buf = self.buf[length:]
        return status, fields

    def wait_for_server_close(self, seconds):
        """Idle until synack closes (recv returns b""), then close our side."""
        self.sock.settimeout(seconds)
        try:
            closed = self.sock.recv(1) == b""
        except socket.timeout:
            closed = False
        self.sock.close()
        return closed


def fetch(pairs, path_of, extra_of):
    """Sends each connection's request, then reads each answer: requests on
    B and C are in flight together, as a browser's are."""
    for c in pairs:
        c.send(path_of[c.name], extra_of(c.name))
    out = {}
    for c in pairs:
        out[c.name] = c.response()
        print("%s (port %d): GET %s -> %d" % (c.name, c.port, path_of[c.name],
                                              out[c.name][0]), flush=True)
    return out


def main():
    host = sys.argv[1]
    idle_wait = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    path_of = {"A": "/hello", "B": "/css/synack.css", "C": "/img/logo.png"}
    a = Conn("A", host)
    got = fetch([a], path_of, lambda n: [])
    b, c = Conn("B", host), Conn("C", host)
    got.update(fetch([b, c], path_of, lambda n: []))
    time.sleep(0.3)  # the user presses reload

    def validators(name):
        f = got[name][1]
        return ["If-None-Match: " + f["etag"], "If-Modified-Since: " + f["last-modified"]]
    fetch([a], path_of, validators)
    fetch([b, c], path_of, validators)
    fetch([a], {"A": "/apple-touch-icon.png"}, lambda n: [])
    time.sleep(0.3)
    b.sock.close()
    c.sock.close()
    closed = a.wait_for_server_close(idle_wait)
    print("A (port %d): %s" % (a.port, "synack closed it when idle; closed ours"
                               if closed else "still open after %.0f s; closed it" % idle_wait))
    return 0


if __name__ == "__main__":
    sys.exit(main())
