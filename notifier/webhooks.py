"""Messages to the staff's work chat: 企业微信 group robots, 钉钉 robots and 飞书 bots.

Each ``[[notify]]`` entry is a ``NotifyTarget``. A notice is queued (``queue_notice``) in the
same transaction as the event that causes it, one row per target that wants the event, with
the provider's JSON request as its body; ``flush_notices`` sends what is due, after the mail
and apart from it, with the outbox's discipline: the row is locked, posted, and recorded
``sent`` in one transaction, so a notice repeats only in the window ``NOTICE_SENT_UNRECORDED``
(the provider took it, the process died before the commit), as a reply repeats only in
``SENT_UNRECORDED``. A refusal (HTTP error, no connection, a non-zero ``errcode``/``code`` in a
200 answer) waits with the outbox's backoff; the target's other notices, and those queued for it
meanwhile, wait with it, so an outage costs one timeout per backoff step, not one per flush. A
notice still unsent after ``max_reply_age_hours`` is ``failed``. The webhook address holds the
robot's key: it is read from the environment when sending and never logged, stored or shown;
errors that might quote it are masked.

Request formats (the providers' documentation):
- 企业微信: POST ``{"msgtype": "text", "text": {"content": ...}}`` (content at most 2048
  bytes); success ``{"errcode": 0, "errmsg": "ok"}``.
- 钉钉: POST ``{"msgtype": "text", "text": {"content": ...}}``; success ``{"errcode": 0}``.
  Signed: ``timestamp`` (ms) + "\\n" + secret, HMAC-SHA256 keyed with the secret, base64,
  URL-encoded, appended as ``&timestamp=…&sign=…``.
- 飞书: POST ``{"msg_type": "text", "content": {"text": ...}}`` (body at most 20 KB); success
  ``{"code": 0, "msg": "success"}``. Signed: HMAC-SHA256 keyed with ``timestamp`` (s) + "\\n" +
  secret over an empty message, base64, sent as ``"timestamp"`` and ``"sign"`` in the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker import notices as stored
from tracker.models import Notice

from .outbox import SENT_UNRECORDED, DeliveryPolicy, RateLimiter

log = logging.getLogger(__name__)

KINDS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
EVENTS = ("doubt", "correction", "complete", "failed", "digest")
SIGNED_KINDS = ("dingtalk", "feishu")
NOTICE_SENDING = "notice_sending"
NOTICE_SENT_UNRECORDED = f"notice_{SENT_UNRECORDED}"
"""The only window in which a notice can be posted twice (see the module's docstring)."""

# the text's limit in UTF-8 bytes: 企业微信's 2048; 钉钉 and 飞书 take about 20 KB of body
TEXT_BYTES = {"wecom": 2048, "dingtalk": 18000, "feishu": 18000}
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class NotifyTarget:
    """One ``[[notify]]`` entry: which robot, where its address is, which events it wants."""

    name: str
    kind: str
    url_env: str
    events: tuple[str, ...] = EVENTS
    secret_env: str | None = None
    max_per_minute: int = 20

    @property
    def label(self) -> str:
        """The entry's name with its provider, for staff (``办公室群（企业微信）``)."""
        return f"{self.name}（{KINDS[self.kind]}）"


class WebhookError(Exception):
    """The provider refused the notice or could not be reached (the text never holds the URL)."""


def clipped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, marked ``……`` where it was cut."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - len("\n……".encode())].decode(errors="ignore")
    return cut + "\n……"


def request_body(kind: str, text: str) -> dict[str, Any]:
    """The provider's JSON request carrying ``text`` (unsigned)."""
    text = clipped(text, TEXT_BYTES[kind])
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    return {"msgtype": "text", "text": {"content": text}}


def queue_notice(
    session: Session,
    targets: Iterable[NotifyTarget],
    event: str,
    *,
    key: str,
    text: str,
    now: datetime,
) -> int:
    """Queue ``text`` for every target that wants ``event`` (in the caller's transaction),
    once per ``key``; returns how many were queued."""
    queued = 0
    for target in targets:
        if event in target.events:
            queued += stored.add_notice(
                session,
                target=target.name,
                provider=target.kind,
                event=event,
                key=f"{event}:{key}"[:200],
                body=json.dumps(request_body(target.kind, text), ensure_ascii=False),
                created_at=now,
            )
    return queued


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's signature: base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书's signature: base64(HMAC-SHA256(key = timestamp + "\\n" + secret, message = ""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_request(
    target: NotifyTarget, url: str, body: dict[str, Any], secret: str | None, now: float
) -> tuple[str, dict[str, Any]]:
    """The address and body to post: signed with ``secret`` where the provider signs."""
    if not secret:
        return url, body
    if target.kind == "dingtalk":
        stamp = int(now * 1000)
        joiner = "&" if urllib.parse.urlsplit(url).query else "?"
        return f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}", body
    stamp = int(now)
    return url, {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}


def accepted(kind: str, answer: Any) -> str | None:
    """None when the provider's answer says the message was taken, else the refusal."""
    if not isinstance(answer, dict):
        return "应答不是 JSON 对象"
    if kind == "feishu":
        code = answer.get("code", answer.get("StatusCode"))
        message = answer.get("msg", answer.get("StatusMessage"))
    else:
        code, message = answer.get("errcode"), answer.get("errmsg")
    if code == 0:
        return None
    return f"errcode={code} {message or ''}".strip()[:300]


def post_json(url: str, body: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> Any:
    """POST ``body`` as JSON to ``url``; the decoded answer. Raises ``WebhookError``."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked at config
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"无法连接：{reason.__class__.__name__} {reason}") from None
    try:
        return json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        raise WebhookError("应答不是 JSON") from None


Poster = Callable[[str, dict[str, Any]], Any]


class WebhookSender:
    """Posts one notice to its target, signed; raises ``WebhookError`` on any refusal."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        post: Poster = post_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.env, self.post, self.clock = os.environ if env is None else env, post, clock

    def send(self, target: NotifyTarget, body: dict[str, Any]) -> None:
        """Post ``body`` to ``target``; raises ``WebhookError`` unless the provider took it."""
        url = self.env.get(target.url_env, "").strip()
        if not url:
            raise WebhookError(f"环境变量 {target.url_env} 未设置（应为机器人的 Webhook 地址）")
        secret = None
        if target.secret_env:
            secret = self.env.get(target.secret_env, "").strip()
            if not secret:
                raise WebhookError(f"环境变量 {target.secret_env} 未设置（应为机器人的加签密钥）")
        address, signed = signed_request(target, url, body, secret, self.clock())
        try:
            answer = self.post(address, signed)
        except WebhookError as exc:
            raise WebhookError(_masked(str(exc), url, secret)) from None
        refusal = accepted(target.kind, answer)
        if refusal:
            raise WebhookError(_masked(refusal, url, secret))


def _masked(text: str, url: str, secret: str | None) -> str:
    """``text`` with the address, its key and the secret replaced by ``***``."""
    secrets = [url, urllib.parse.urlsplit(url).query, secret or ""]
    for value in sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


_LIMITERS: dict[tuple[str, int], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def target_limiter(target: NotifyTarget) -> RateLimiter:
    """The process's one limiter for this target (the providers allow about 20 a minute)."""
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault(
            (target.name, target.max_per_minute), RateLimiter(target.max_per_minute)
        )


def flush_notices(
    sessions: sessionmaker[Session],
    targets: Iterable[NotifyTarget],
    *,
    sender: WebhookSender | None = None,
    policy: DeliveryPolicy | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    step: Callable[[str], None] = lambda _point: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Post every due notice once; count those sent, to retry, and given up.

    ``step`` is told ``notice_sending`` before each post and ``notice_sent_unrecorded`` after
    the provider took it but before that is committed (the crash tests kill the process there).
    A target that refuses is not tried again until its notice is due again: its other
    notices, those queued since included, wait with it (a flush follows every receipt, and a
    robot that is down must not cost each one a timeout).
    """
    by_name = {t.name: t for t in targets}
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not by_name:
        return result
    sender, policy = sender or WebhookSender(), policy or DeliveryPolicy()
    with sessions() as session:
        pending = [(n.id, n.target) for n in stored.due_notices(session, clock())]
        refused = stored.resting_targets(session, clock())
    for notice_id, name in pending:
        if should_stop():
            break
        target = by_name.get(name)
        if target is None:  # the entry was removed from the configuration: kept, not sent
            continue
        with sessions() as session:
            notice = stored.lock_notice(session, notice_id)
            if notice is None:
                continue
            if name in refused:
                notice.last_error, notice.next_attempt_at = refused[name]
                result["retry"] += 1
            else:
                outcome = _deliver(notice, target, sender, policy, clock(), step)
                result[outcome] += 1
                if outcome == "retry":
                    refused[name] = (notice.last_error, notice.next_attempt_at)
            session.commit()
    return result


def _deliver(
    notice: Notice,
    target: NotifyTarget,
    sender: WebhookSender,
    policy: DeliveryPolicy,
    now: datetime,
    step: Callable[[str], None],
) -> str:
    if notice.created_at < now - timedelta(hours=policy.max_reply_age_hours):
        notice.state = "failed"
        log.warning(
            "工作群通知 id=%s target=%s 已积压超过 %s 小时，不再发送：%s",
            notice.id,
            target.name,
            policy.max_reply_age_hours,
            notice.last_error,
        )
        return "failed"
    target_limiter(target).wait()
    notice.attempts += 1
    step(NOTICE_SENDING)
    try:
        sender.send(target, json.loads(notice.body))
    except WebhookError as exc:
        notice.last_error = str(exc)
        notice.next_attempt_at = now + policy.backoff(notice.attempts)
        log.warning(
            "工作群通知 id=%s target=%s event=%s 未能送达，将于 %s 重试：%s",
            notice.id,
            target.name,
            notice.event,
            notice.next_attempt_at.isoformat(),
            notice.last_error,
        )
        return "retry"
    step(NOTICE_SENT_UNRECORDED)
    notice.state, notice.sent_at, notice.last_error = "sent", now, None
    log.info("工作群通知已发送 id=%s target=%s event=%s", notice.id, target.name, notice.event)
    return "sent"
