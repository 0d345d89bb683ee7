"""One raw message (bytes) -> ``ParsedMail``: headers, body text, attachments, big-file links.

The standard library ``email`` package (compat32, which keeps raw 8-bit header bytes) splits
the MIME tree; ``parsers.charsets`` decodes every header, parameter and body the way Chinese
mail needs (GB2312 labels read as GB18030, RFC 2047 inside quotes, RFC 2231, raw GBK bytes);
mail-parser reads odd dates and is the fallback reader when the tree cannot be walked.
``parse_message`` never raises for bad input, only for empty input; what went wrong is listed
in ``defects``.
"""

from __future__ import annotations

import email
import email.utils
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from html.parser import HTMLParser

from . import bigattach
from .base64_aside import SetAside, set_aside
from .bigattach import BigAttachment
from .charsets import decode_bytes, decode_words, parse_header_params, unescape_raw, unfold

__all__ = ["Attachment", "BigAttachment", "ParsedMail", "parse_message", "html_to_text"]

_MAX_DEPTH = 20


@dataclass
class Attachment:
    """One attached file: its decoded display name (never a path), type, bytes, inline flag."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    inline: bool


@dataclass
class ParsedMail:
    """Everything the pipeline needs from one message."""

    message_id: str | None
    subject: str
    from_addr: str
    from_name: str
    reply_to: str | None
    return_path: str | None
    date: datetime | None
    received_at: datetime | None
    in_reply_to: str | None
    references: list[str]
    body_text: str
    attachments: list[Attachment]
    big_attachments: list[BigAttachment]
    headers: dict[str, str]
    content_type: str
    report_type: str | None
    defects: list[str]
    auth_results: list[str] = field(default_factory=list)


# --- headers -----------------------------------------------------------------------------


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime from an RFC 5322 date (odd forms via mail-parser), or None."""
    if not value or not value.strip():
        return None
    text = unfold(unescape_raw(value))
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        try:
            from mailparser.utils import convert_mail_date

            parsed = convert_mail_date(text)[0]
        except Exception:  # mail-parser could not read it either
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _address(value: str | None) -> tuple[str, str]:
    """(display name, lower-case bare address) of the first address in a header value."""
    if not value:
        return "", ""
    text = unfold(value)
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:  # getaddresses on hostile input
        pairs = []
    name, addr = pairs[0] if pairs else ("", "")
    if "@" not in addr:
        found = re.search(r"[\w.+'=-]+@[\w.-]+\w", unescape_raw(text))
        addr = found.group(0) if found else ""
        if not name and found:
            name = text[: found.start()].strip(' <"')
    return decode_words(name).strip().strip('"').strip(), unescape_raw(addr).strip().lower()


def _msg_id(value: str | None) -> str | None:
    if value is None:
        return None
    text = unfold(unescape_raw(value)).strip().strip("<>").strip()
    return text or None


def _references(value: str | None) -> list[str]:
    if not value:
        return []
    text = unfold(unescape_raw(value))
    ids = re.findall(r"<([^<>]+)>", text)
    return [i.strip() for i in ids] if ids else text.split()


def topmost_received_date(received: list[str]) -> datetime | None:
    """The date of the topmost ``Received:`` header that has one."""
    for value in received:
        when = parse_date(value.rpartition(";")[2]) if ";" in value else None
        if when is not None:
            return when
    return None


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    text = unfold(unescape_raw(value)).strip()
    if text.strip("<> ") == "":
        return ""
    return _address(text)[1] or text.strip("<> ").lower()


def _read_headers(msg: Message) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(lower-case name -> decoded first value, lower-case name -> all raw values)."""
    decoded: dict[str, str] = {}
    raw: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        key = str(name).strip().lower()
        value = value if isinstance(value, str) else str(value)
        raw.setdefault(key, []).append(value)
        if key not in decoded:
            try:
                decoded[key] = decode_words(unfold(value))
            except Exception:  # keep the header readable even if decoding fails
                decoded[key] = unfold(value)
    return decoded, raw


# --- body ---------------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_SKIP = {"script", "style", "head", "title"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in _SKIP and self.skip:
            self.skip -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: tags dropped, blocks on their own lines."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # keep what was extracted before the markup broke the parser
        pass
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


@dataclass
class _Walk:
    """What walking one MIME tree collects."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    big: list[list[BigAttachment]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    aside: SetAside | None = None  # the base64 runs taken out of the raw message before parsing

    def body_text(self) -> str:
        own = "\n\n".join(t.strip() for t in self.plain if t.strip())
        if not own:
            own = "\n\n".join(html_to_text(h) for h in self.html if h.strip())
        return "\n\n".join(t for t in [own, *self.nested] if t.strip())


def _payload(part: Message, out: _Walk) -> bytes:
    defects = out.defects
    if out.aside is not None:
        data = out.aside.payload(part)
        if data is not None:
            return data
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # a broken transfer encoding: keep the raw payload
        defects.append(f"payload not decodable: {exc}")
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _safe_name(name: str, content_type: str, number: int) -> str:
    """A display name, never a path; 'attachment-N.ext' when the mail gives none."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name or "").strip()
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".") if name else ""
    if name in ("", ".", ".."):
        ext = mimetypes.guess_extension(content_type or "") or ".bin"
        return f"attachment-{number}{ext}"
    return name


def _raw_header(part: Message, name: str) -> str:
    for key, value in part.raw_items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


def _walk(part: Message, out: _Walk, *, related: bool = False, depth: int = 0) -> None:
    """Collect body text, attachments and big-file links of ``part`` and its children."""
    out.defects.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
    if depth > _MAX_DEPTH:
        out.defects.append("MIME nesting too deep")
        return
    ctype, params = parse_header_params(_raw_header(part, "content-type"))
    if "/" not in ctype:
        ctype = "text/plain"
    disposition, dparams = parse_header_params(_raw_header(part, "content-disposition"))
    if ctype == "message/rfc822":
        _walk_nested(part, out, depth)
        return
    if part.is_multipart():
        children = part.get_payload()
        for child in children if isinstance(children, list) else []:
            _walk(child, out, related=related or ctype == "multipart/related", depth=depth + 1)
        return
    filename = dparams.get("filename") or params.get("name") or ""
    is_text = ctype in ("text/plain", "text/html", "text/rfc822-headers") or ctype.startswith(
        "multipart/"
    )
    if is_text and disposition != "attachment" and not filename:
        text = decode_bytes(_payload(part, out), params.get("charset"))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if ctype == "text/html":
            out.html.append(text)
            out.big.append(bigattach.find_in_html(text))
        else:
            out.plain.append(text)
            out.big.append(bigattach.find_in_text(text))
        return
    inline = disposition == "inline" or (related and bool(part.get("Content-ID")))
    name = _safe_name(filename, ctype, len(out.attachments) + 1)
    out.attachments.append(Attachment(name, ctype, _payload(part, out), inline))


def _walk_nested(part: Message, out: _Walk, depth: int) -> None:
    """A forwarded message: its attachments join ours, its body text is appended."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
    else:
        inner = email.message_from_bytes(_payload(part, out), policy=compat32)
    sub = _Walk(aside=out.aside)
    _walk(inner, sub, depth=depth + 1)
    headers, _ = _read_headers(inner)
    intro = "\n".join(
        f"{label}: {headers[key]}"
        for key, label in (("from", "From"), ("subject", "Subject"))
        if key in headers
    )
    out.nested.append("\n".join(t for t in (intro, sub.body_text()) if t))
    out.attachments.extend(sub.attachments)
    out.big.extend(sub.big)
    out.defects.extend(sub.defects)


# --- the whole message ----------------------------------------------------------------------


def _fallback_body(raw: bytes, defects: list[str]) -> tuple[str, list[Attachment]]:
    """mail-parser's reading of the body, when walking the MIME tree failed."""
    try:
        import mailparser

        parsed = mailparser.parse_from_bytes(raw)
        text = "\n\n".join(parsed.text_plain) or html_to_text("\n".join(parsed.text_html))
        return text, []
    except Exception as exc:  # even mail-parser cannot read it: keep the raw text
        defects.append(f"mail-parser fallback failed: {exc}")
        return decode_bytes(raw.partition(b"\n\n")[2] or raw), []


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID of ``raw``, read from its header block alone (cheap, for the claim taken
    when a message is stored), normalised as ``parse_message`` does."""
    crlf = raw.find(b"\r\n\r\n")
    # an LF-only blank line before it, if any (searched to the end, it read every CRLF message
    # whole: 0.75 ms for 0.5 MB)
    lf = raw.find(b"\n\n", 0, crlf + 1 if crlf >= 0 else len(raw))
    end = lf if lf >= 0 else crlf
    head = raw if end < 0 else raw[: end + 2]
    try:
        found = email.message_from_bytes(head, policy=compat32).get_all("message-id") or []
    except Exception:  # noqa: BLE001 - a header block the parser cannot take has no usable id
        return None
    text = _msg_id(str(found[0])) if found else None
    # kept to what a database column takes whatever the sender wrote: printable, bounded
    text = "".join(ch for ch in text or "" if ch.isprintable() and not 0xD800 <= ord(ch) < 0xE000)
    return text[:900] or None


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one RFC 5322 message. Raises ValueError only for empty input."""
    if not raw or raw.isspace():  # not strip(): a copy of the whole message to look at its ends
        raise ValueError("empty message")
    defects: list[str] = []
    reduced, aside = set_aside(raw)  # the attachments' base64 is decoded apart, in C
    msg = email.message_from_bytes(reduced, policy=compat32)
    headers, raw_headers = _read_headers(msg)
    first = {key: values[0] for key, values in raw_headers.items()}
    from_name, from_addr = _address(first.get("from") or first.get("sender"))
    reply_name, reply_addr = _address(first.get("reply-to"))
    ctype, params = parse_header_params(first.get("content-type", ""))
    walk = _Walk(aside=aside)
    try:
        _walk(msg, walk)
        body_text, attachments = walk.body_text(), walk.attachments
    except Exception as exc:  # a tree the walker cannot handle: read what mail-parser can
        defects.append(f"MIME walk failed: {exc!r}")
        body_text, attachments = _fallback_body(raw, defects)
    defects.extend(d for d in walk.defects if d not in defects)
    return ParsedMail(
        message_id=_msg_id(first.get("message-id")),
        subject=headers.get("subject", "").strip(),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_addr or None,
        return_path=_return_path(first.get("return-path")),
        date=parse_date(first.get("date")),
        received_at=topmost_received_date(raw_headers.get("received", [])),
        in_reply_to=_msg_id(first.get("in-reply-to")),
        references=_references(first.get("references")),
        body_text=body_text,
        attachments=attachments,
        big_attachments=bigattach.merge(*walk.big),
        headers=headers,
        content_type=ctype if "/" in ctype else "text/plain",
        report_type=params.get("report-type", "").lower() or None,
        defects=defects,
        auth_results=[
            unfold(str(value)) for value in raw_headers.get("authentication-results", [])
        ],
    )
