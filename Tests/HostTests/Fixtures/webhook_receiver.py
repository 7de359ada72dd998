#!/usr/bin/env python3
"""An HTTP endpoint on loopback for the NotifierWebhook tests.

Every POST is logged to --log FILE as one JSON line (path, headers, body as text) before
it is answered according to its path:
  /ok        200 "ok"
  /fail      500 "receiver broke"
  /hang      never answers (the connection stays open until the process ends)
  /redirect  302 to /ok (which must not be followed)
  /big       200 with a 1 MiB body
Writes the port to --port-file when listening on 127.0.0.1 (a free port)."""
import argparse, json, os, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()),
                                "body": body.decode("utf-8", "replace")}) + "\n")
        if self.path == "/hang":
            time.sleep(3600)
        elif self.path == "/redirect":
            self.answer(302, b"moved", [("Location", "/ok")])
        elif self.path == "/fail":
            self.answer(500, b"receiver broke")
        elif self.path == "/big":
            self.answer(200, b"x" * (1 << 20))
        else:
            self.answer(200, b"ok")

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
