#!/usr/bin/env python3
"""An http-01 target for tests: serves /.well-known/acme-challenge/TOKEN from DIR/TOKEN.

While DIR/hold exists, a request is held (its answer waits until the file is removed):
the server under test is then mid-validation. Each request writes DIR/seen-TOKEN.
Prints the port it listens on (127.0.0.1) to DIR/port once listening.
Usage: held_http01.py DIR
"""
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTORY = sys.argv[1]
PREFIX = "/.well-known/acme-challenge/"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        token = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else ""
        if not token or "/" in token:
            self.send_error(404)
            return
        open(os.path.join(DIRECTORY, "seen-" + token), "w").close()
        while os.path.exists(os.path.join(DIRECTORY, "hold")):
            time.sleep(0.05)
        try:
            with open(os.path.join(DIRECTORY, token), "rb") as f:
                body = f.read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(os.path.join(DIRECTORY, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIRECTORY, "port.tmp"), os.path.join(DIRECTORY, "port"))
server.serve_forever()
