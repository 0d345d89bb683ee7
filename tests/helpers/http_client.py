"""Plain HTTP requests to a real dashboard server (waitress), with its session cookie: for the
login tests and the login flood benchmark. Standard library only (the benchmark's client
processes import it)."""

from __future__ import annotations

import http.client
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

COOKIE = "intake_session"


def request(
    url: str,
    method: str,
    target: str,
    cookie: str = "",
    form: dict[str, str] | None = None,
    source: str = "127.0.0.1",
) -> tuple[int, dict[str, str], str]:
    """One request on a fresh connection from the address ``source``, with our own Origin:
    the status, headers and text of the answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=60, source_address=(source, 0)
    )
    headers = {"Origin": url}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = "&".join(f"{k}={quote(v)}" for k, v in form.items())
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        connection.close()


def session_cookie(headers: dict[str, str], fallback: str = "") -> str:
    """The ``Cookie`` header value for the session an answer set (``fallback`` if it set none)."""
    if "Set-Cookie" not in headers:
        return fallback
    jar = SimpleCookie()
    jar.load(headers["Set-Cookie"])
    return f"{COOKIE}={jar[COOKIE].value}"
