"""A webhook receiver for `scripts/bench --hooks`, in the bench process: on 127.0.0.1, POST
/hang never answers (the connection stays open until the bench ends), POST /fail answers
500. Counts what it received."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookSink:
    def __init__(self):
        self.received = {"/hang": 0, "/fail": 0}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.received[self.path] = sink.received.get(self.path, 0) + 1
                if self.path == "/hang":
                    while not sink.stopped:
                        time.sleep(0.5)
                    return
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.stopped = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.stopped = True
        self.server.shutdown()
