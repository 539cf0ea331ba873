"""Serves a folder under /genuq/ on 127.0.0.1, as a project page is hosted (sub-path, static).

usage: serve.py DIR PORT
"""
import functools
import http.server
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
        super().do_GET()

    def log_message(self, fmt, *args):
        pass


def main():
    root, port = sys.argv[1], int(sys.argv[2])
    handler = functools.partial(Handler, directory=root)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {root} on http://127.0.0.1:{port}{PREFIX}/", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
