"""Serves a folder under /genuq/ on 127.0.0.1, as a project page is hosted (sub-path, static).

usage: serve.py DIR PORT [--gzip] [--hold NAME]

--gzip: as GitHub Pages and most CDNs do, every file compressed on the fly, with no
Content-Length (the body ends when the connection closes), so a page cannot size a download
from the response.
--hold NAME: a request for a file named NAME is answered only once /genuq/__release is asked
for (or after 120 s). /genuq/__arrivals lists every request as [path, ms since the epoch when
it reached this server]: the time a request left the browser, which a page cannot see and
devtools reports late for a busy worker's requests.
"""
import functools
import gzip
import http.server
import json
import os
import sys
import threading
import time

PREFIX = "/genuq"


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".mjs": "text/javascript", ".json": "application/json"}

    def translate_path(self, path):
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return super().translate_path(path[len(PREFIX):] or "/")
        return "/nonexistent"

    def do_GET(self):
        if self.path == PREFIX + "/__arrivals":
            self.answer(json.dumps(ARRIVALS).encode(), "application/json")
            return
        if self.path == PREFIX + "/__release":
            RELEASED.set()
            self.answer(b"released", "text/plain")
            return
        ARRIVALS.append([self.path, time.time() * 1000])
        if HOLD and self.path.split("?")[0].endswith("/" + HOLD):
            RELEASED.wait(120)
        if self.path in ("/", PREFIX):
            self.send_response(302)
            self.send_header("Location", PREFIX + "/")
            self.end_headers()
            return
        path = self.translate_path(self.path.split("?")[0])
        if not GZIP or not os.path.isfile(path):
            super().do_GET()
            return
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), compresslevel=1)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def answer(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def copyfile(self, source, outputfile):
        # as a static host serves a file: the kernel copies it (sendfile), not a Python loop
        # holding the interpreter lock while the page fetches files in parallel
        outputfile.flush()
        self.connection.sendfile(source)

    def log_message(self, fmt, *args):
        pass


GZIP = "--gzip" in sys.argv
HOLD = sys.argv[sys.argv.index("--hold") + 1] if "--hold" in sys.argv else None
RELEASED = threading.Event()
ARRIVALS = []


def main():
    root, port = sys.argv[1], int(sys.argv[2])
    handler = functools.partial(Handler, directory=root)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {root} on http://127.0.0.1:{port}{PREFIX}/", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
