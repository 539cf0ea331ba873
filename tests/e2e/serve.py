"""Serves a folder under /genuq/ on 127.0.0.1, as a project page is hosted (sub-path, static).

usage: serve.py DIR PORT [--gzip]

--gzip: as GitHub Pages and most CDNs do, every file compressed on the fly, with no
Content-Length (the body ends when the connection closes), so a page cannot size a download
from the response.
"""
import functools
import gzip
import http.server
import os
import sys

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

    def copyfile(self, source, outputfile):
        # as a static host serves a file: the kernel copies it (sendfile), not a Python loop
        # holding the interpreter lock while the page fetches files in parallel
        outputfile.flush()
        self.connection.sendfile(source)

    def log_message(self, fmt, *args):
        pass


GZIP = "--gzip" in sys.argv


def main():
    root, port = sys.argv[1], int(sys.argv[2])
    handler = functools.partial(Handler, directory=root)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {root} on http://127.0.0.1:{port}{PREFIX}/", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
