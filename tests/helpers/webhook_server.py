"""A local stand-in for the 企业微信, 钉钉 and 飞书 robot webhooks (http.server on 127.0.0.1).

It checks each request as the provider does: the path, the JSON body's exact shape, the text's
size, and for the signed variants the timestamp (within an hour) and the signature; it answers
as the provider does (HTTP 200 with ``errcode``/``code`` 0, or the provider's error code) and
records every request. ``fail`` makes a path answer HTTP 500 or a non-zero code instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
FEISHU_PREFIX = "/open-apis/bot/v2/hook/"


@dataclass
class Received:
    """One request as the server saw it, with the verdict the provider would give."""

    kind: str
    path: str
    query: dict[str, str]
    body: Any
    ok: bool
    error: str = ""

    @property
    def text(self) -> str:
        """The message text the chat would show."""
        if self.kind == "feishu":
            return self.body["content"]["text"]
        return self.body["text"]["content"]


@dataclass
class WebhookServer:
    """The three providers on one port; ``secrets`` maps a robot's token to its signing secret."""

    secrets: dict[str, str] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)  # token -> "500" | "code"
    received: list[Received] = field(default_factory=list)

    def start(self) -> WebhookServer:
        """Serve on a free port of 127.0.0.1 in a thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                owner._handle(self)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def wecom_url(self, key: str) -> str:
        """A 企业微信 group robot's webhook address."""
        return f"{self.base}{WECOM_PATH}?key={key}"

    def dingtalk_url(self, token: str) -> str:
        """A 钉钉 robot's webhook address."""
        return f"{self.base}{DINGTALK_PATH}?access_token={token}"

    def feishu_url(self, token: str) -> str:
        """A 飞书 bot's webhook address."""
        return f"{self.base}{FEISHU_PREFIX}{token}"

    def accepted(self, kind: str | None = None) -> list[Received]:
        """The requests the provider took (of ``kind``)."""
        return [r for r in self.received if r.ok and kind in (None, r.kind)]

    # -- the providers' checks ----------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        raw = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        if split.path == WECOM_PATH:
            kind, token = "wecom", query.get("key", "")
        elif split.path == DINGTALK_PATH:
            kind, token = "dingtalk", query.get("access_token", "")
        elif split.path.startswith(FEISHU_PREFIX):
            kind, token = "feishu", split.path.removeprefix(FEISHU_PREFIX)
        else:
            self._answer(request, 404, {"error": "not found"})
            return
        error = ""
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            error = "content type"
        else:
            error = getattr(self, f"_check_{kind}")(token, query, body)
        record = Received(kind, split.path, query, body, ok=not error, error=error)
        mode = self.fail.get(token)
        if mode == "500":
            record.ok, record.error = False, "HTTP 500"
            self.received.append(record)
            self._answer(request, 500, {"error": "internal"})
            return
        if mode == "code" and not error:
            error = "refused by test"
            record.ok, record.error = False, error
        self.received.append(record)
        self._answer(request, 200, self._reply(kind, error))

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def _reply(kind: str, error: str) -> dict[str, Any]:
        if kind == "feishu":
            if error:
                return {"code": 19021 if "sign" in error else 9499, "msg": error, "data": {}}
            return {"code": 0, "msg": "success", "data": {}}
        if error:
            return {"errcode": 310000 if "sign" in error else 40008, "errmsg": error}
        return {"errcode": 0, "errmsg": "ok"}

    @staticmethod
    def _text_body(body: Any, type_key: str, holder: str, text_key: str) -> str:
        if not isinstance(body, dict) or body.get(type_key) != "text":
            return f"{type_key} is not text"
        inner = body.get(holder)
        if not isinstance(inner, dict) or set(inner) != {text_key}:
            return f"{holder} must be {{{text_key!r}: ...}}"
        if not isinstance(inner[text_key], str) or not inner[text_key].strip():
            return "empty text"
        return ""

    def _check_wecom(self, _token: str, query: dict[str, str], body: Any) -> str:
        if set(query) != {"key"}:
            return f"unexpected query {sorted(query)}"
        if not isinstance(body, dict) or set(body) != {"msgtype", "text"}:
            return "wecom body must be exactly msgtype and text"
        error = self._text_body(body, "msgtype", "text", "content")
        if not error and len(body["text"]["content"].encode()) > 2048:
            error = "content over 2048 bytes"
        return error

    def _check_dingtalk(self, token: str, query: dict[str, str], body: Any) -> str:
        secret = self.secrets.get(token)
        expected = {"access_token", "timestamp", "sign"} if secret else {"access_token"}
        if set(query) != expected:
            return f"query must be {sorted(expected)}, not {sorted(query)}"
        if secret:
            stamp = query["timestamp"]
            if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600_000:
                return "sign timestamp not within one hour"
            digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
            if query["sign"] != base64.b64encode(digest.digest()).decode():
                return "sign not match"
        if not isinstance(body, dict) or set(body) != {"msgtype", "text"}:
            return "dingtalk body must be exactly msgtype and text"
        return self._text_body(body, "msgtype", "text", "content")

    def _check_feishu(self, token: str, query: dict[str, str], body: Any) -> str:
        secret = self.secrets.get(token)
        if query:
            return "feishu takes no query"
        expected = {"msg_type", "content"} | ({"timestamp", "sign"} if secret else set())
        if not isinstance(body, dict) or set(body) != expected:
            return f"feishu body must be exactly {sorted(expected)}"
        if secret:
            stamp = body["timestamp"]
            if not isinstance(stamp, str) or not stamp.isdigit():
                return "timestamp must be a string of seconds"
            if abs(int(stamp) - time.time()) > 3600:
                return "sign match fail or timestamp is not within one hour"
            digest = hmac.new(f"{stamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
            if body["sign"] != base64.b64encode(digest).decode():
                return "sign match fail or timestamp is not within one hour"
        return self._text_body(body, "msg_type", "content", "text")
