#!/usr/bin/env python3
"""A recording HTTP proxy on 127.0.0.1 in front of a mock (prism): forwards every request to
UPSTREAM and appends one JSON line per exchange to LOG (method, path, request body, status,
prism's `sl-violations` header), so a test can check the bodies the binary really sent.
Prints `PORT=<n>` once listening. Usage: capture_proxy.py UPSTREAM LOG
"""
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = sys.argv[1].rstrip("/")
LOG = sys.argv[2]
LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        req = urllib.request.Request(UPSTREAM + self.path, data=body or None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in HOP:
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                status, headers, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, e.headers, e.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization" and k.lower() != "x-api-key"},
            "body": parsed,
            "status": status,
            "violations": headers.get("sl-violations"),
        }
        with LOCK, open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    print(f"PORT={server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
