#!/usr/bin/env python3
"""A git smart-HTTP server on 127.0.0.1 that demands Basic auth, for push tests.

Any user name is accepted; the password must equal --token (as GitHub takes
`x-access-token:<token>`). Requests are served by `git http-backend` as a CGI program.
libgit2 sends chunked request bodies, which are decoded here. The first stdout line is
`PORT=<n>`. Each request is logged (method, path, status, whether credentials came) to --log;
the password is never logged.
"""
import argparse
import base64
import http.server
import os
import subprocess
import sys
import threading


def read_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size_line = handler.rfile.readline().strip()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = ""
    token = ""
    log_path = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def record(self, status, authed):
        if self.log_path:
            with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
                f.write(f"{self.command} {self.path} {status} auth={'yes' if authed else 'no'}\n")

    def authorised(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False, False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except Exception:
            return True, False
        return True, password == self.token

    def handle_any(self):
        body = read_body(self)
        given, ok = self.authorised()
        if not ok:
            self.record(401, given)
            msg = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        for k, v in self.headers.items():
            env["HTTP_" + k.upper().replace("-", "_")] = v
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            if not line.strip():
                continue
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((name.strip(), value.strip()))
        self.record(status, True)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = handle_any
    do_POST = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="folder holding bare repositories")
    ap.add_argument("--token", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    args = ap.parse_args()
    Handler.root = os.path.abspath(args.root)
    Handler.token = args.token
    Handler.log_path = args.log
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT={server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
