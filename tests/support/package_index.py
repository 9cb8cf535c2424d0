"""A package index on 127.0.0.1 that answers as PyPI's simple index does in its JSON form
(PEP 691, with PEP 700's ``versions``), for tests of the dependency checks.

``GET /<project>/`` answers the project's page with ``Content-Type:
application/vnd.pypi.simple.v1+json``; a project it does not know answers 404.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def project_page(
    name: str, versions: list[str], *, yanked: dict[str, str] | None = None,
    requires_python: dict[str, str] | None = None,
) -> dict:  # fmt: skip
    """A project's page with a wheel and an sdist per version; ``yanked`` maps a version to
    the reason it was yanked, ``requires_python`` a version to its Requires-Python."""
    yanked, requires_python = yanked or {}, requires_python or {}
    stem = name.replace("-", "_")
    files = [
        {
            "filename": filename,
            "url": f"https://files.example.test/{filename}",
            "hashes": {},
            "requires-python": requires_python.get(version),
            "yanked": yanked.get(version, False),
        }
        for version in versions
        for filename in (f"{stem}-{version}-py3-none-any.whl", f"{stem}-{version}.tar.gz")
    ]
    return {"meta": {"api-version": "1.1"}, "name": name, "files": files, "versions": versions}


class PackageIndex:
    """``with PackageIndex(pages) as index:`` serves ``index.url``. A page is a dict (sent
    as JSON) or a ``(content type, body bytes)`` pair sent as it is."""

    def __init__(self, pages: dict[str, dict | tuple[str, bytes]]):
        self.pages = pages
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/simple/"

    def _handler(self):
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                name = self.path.removeprefix("/simple/").strip("/")
                page = pages.get(name)
                if page is None:
                    content_type, body, status = "text/plain", b"Not Found", 404
                elif isinstance(page, dict):
                    content_type, body, status = SIMPLE_JSON, json.dumps(page).encode(), 200
                else:
                    (content_type, body), status = page, 200
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> "PackageIndex":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
