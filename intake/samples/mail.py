"""The sample-mail builder: RFC 5322 bytes as Outlook, Foxmail, QQ Mail, 163 and old clients send.

Used by the tests and by ``intake demo``. Every builder is deterministic: the same arguments
give the same bytes (boundaries and Message-IDs are derived from the content, not random).
Styles: ``outlook`` (UTF-8, RFC 2231 file names), ``foxmail`` (GBK bytes labelled GB2312),
``qq`` (UTF-8 encoded-words split mid-character), ``netease`` (163 Coremail, GBK),
``raw8bit`` (raw GBK bytes in headers, no encoding at all).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import mimetypes
import struct
import zipfile
from datetime import datetime, timedelta
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

STYLES = ("outlook", "foxmail", "qq", "netease", "raw8bit")
DEPARTMENT_MX = "mx.example.edu.cn"

_MAILERS = {
    "outlook": "Microsoft Outlook 16.0",
    "foxmail": "Foxmail 7.2.23.121[cn]",
    "qq": "QQMail 2.x",
    "netease": "Coremail Webmail Server Version XT5.0.13 build 20210622(1d4788a8) "
    "Copyright (c) 2002-2022 www.mailtech.cn 163com",
}
# (charset label written in the mail, codec used for the bytes)
_CHARSETS = {
    "outlook": ("utf-8", "utf-8"),
    "qq": ("utf-8", "utf-8"),
    "foxmail": ("GB2312", "gbk"),
    "netease": ("GBK", "gbk"),
    "raw8bit": ("GBK", "gbk"),
}
_OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".wps": "application/kswps",
    ".et": "application/kset",
    ".zip": "application/x-zip-compressed",
    ".rar": "application/x-rar",
}


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x00".join(map(str, parts)).encode("utf-8", "replace")).hexdigest()


def _encode(text: str, codec: str) -> bytes:
    """``text`` in ``codec``; GBK text with characters outside GBK falls back to GB18030."""
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        return text.encode("gb18030" if codec == "gbk" else "utf-8")


def _b64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def _words(text: str, style: str) -> list[bytes]:
    """RFC 2047 B encoded-words for ``text`` the way ``style`` writes them (raw bytes for
    raw8bit)."""
    label, codec = _CHARSETS[style]
    data = _encode(text, codec)
    if style == "raw8bit":
        return [data]
    if style == "qq":  # QQ Mail cuts by bytes, so a character may straddle two words
        chunks = [data[i : i + 30] for i in range(0, len(data), 30)]
    else:
        chunks, current = [], b""
        for ch in text:
            piece = _encode(ch, codec)
            if len(current) + len(piece) > 36:
                chunks.append(current)
                current = b""
            current += piece
        chunks.append(current)
    return [f"=?{label}?B?{base64.b64encode(c).decode()}?=".encode() for c in chunks if c]


def header_text(text: str, style: str) -> bytes:
    """A header value carrying ``text``: plain ASCII as is, otherwise encoded as ``style`` does."""
    if text.isascii():
        return text.encode("ascii")
    return b"\r\n ".join(_words(text, style))


def _address(value: str, style: str) -> bytes:
    name, addr = parseaddr(value)
    if not name:
        return addr.encode("ascii")
    if name.isascii():
        return f'"{name}" <{addr}>'.encode("ascii")
    quote_mark = b'"' if style in ("qq", "raw8bit") else b""
    return quote_mark + header_text(name, style) + quote_mark + f" <{addr}>".encode("ascii")


def _filename_params(name: str, style: str) -> tuple[bytes, bytes]:
    """The ``name=`` parameter for Content-Type and the file-name part of Content-Disposition."""
    if name.isascii():
        plain = f'"{name}"'.encode("ascii")
        return b"name=" + plain, b"filename=" + plain
    if style == "outlook":
        encoded = quote(name.encode("utf-8"), safe="")
        if len(encoded) <= 60:
            disposition = f"filename*=utf-8''{encoded}".encode()
        else:  # RFC 2231 continuations, cut between %XX escapes
            pieces, current = [], ""
            for ch in name:
                escaped = quote(ch.encode("utf-8"), safe="")
                if len(current) + len(escaped) > 54:
                    pieces.append(current)
                    current = ""
                current += escaped
            pieces.append(current)
            disposition = b";\r\n\t".join(
                (f"filename*{i}*=utf-8''{p}" if i == 0 else f"filename*{i}*={p}").encode()
                for i, p in enumerate(pieces)
            )
        return b'name="' + b" ".join(_words(name, style)) + b'"', disposition
    quoted = b'"' + b"\r\n\t".join(_words(name, style)) + b'"'
    return b"name=" + quoted, b"filename=" + quoted


def content_type_of(name: str) -> str:
    """The MIME type a client would label file ``name`` with."""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    return _OFFICE_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def entity(headers: list[tuple[str, bytes | str]], body: bytes) -> bytes:
    """One MIME entity: header lines, a blank line, the body."""
    lines = [
        name.encode("ascii")
        + b": "
        + (value if isinstance(value, bytes) else value.encode("utf-8"))
        for name, value in headers
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def multipart(subtype: str, parts: list[bytes], seed: str, extra: str = "") -> bytes:
    """A multipart entity of ``parts`` with a boundary derived from ``seed``."""
    boundary = f"----=_Part_{_digest(seed, subtype)[:24]}"
    body = b"".join(
        b"--" + boundary.encode() + b"\r\n" + part.rstrip(b"\r\n") + b"\r\n" for part in parts
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    ctype = f'multipart/{subtype};{extra}\r\n\tboundary="{boundary}"'
    return entity(
        [("Content-Type", ctype)], b"This is a multi-part message in MIME format.\r\n\r\n" + body
    )


def attachment_part(name: str, data: bytes, style: str, *, ctype: str | None = None) -> bytes:
    """An attachment entity naming ``name`` the way ``style`` does."""
    ctype = ctype or ("application/octet-stream" if style == "qq" else content_type_of(name))
    name_param, file_param = _filename_params(name, style)
    charset = b'charset="utf-8";\r\n\t' if style == "qq" else b""
    return entity(
        [
            ("Content-Type", ctype.encode() + b";\r\n\t" + charset + name_param),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", b"attachment;\r\n\t" + file_param),
        ],
        _b64_lines(data),
    )


def text_part(text: str, style: str, subtype: str = "plain") -> bytes:
    """A text/plain or text/html entity in the style's charset (8-bit for raw8bit)."""
    label, codec = _CHARSETS[style]
    data = _encode(text.replace("\r\n", "\n").replace("\n", "\r\n"), codec)
    if style == "raw8bit":
        return entity(
            [
                ("Content-Type", f"text/{subtype}; charset={label}"),
                ("Content-Transfer-Encoding", "8bit"),
            ],
            data + b"\r\n",
        )
    return entity(
        [
            ("Content-Type", f'text/{subtype};\r\n\tcharset="{label}"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        _b64_lines(data),
    )


def body_html(text: str, style: str) -> str:
    """The HTML alternative a webmail or Foxmail writes for plain ``text``."""
    label = _CHARSETS[style][0]
    lines = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.splitlines())
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={label}">'
        f"</head><body>{lines}</body></html>"
    )


def _received(sender: str, arrived: datetime, seed: str) -> bytes:
    domain = sender.rpartition("@")[2].rstrip(">") or "unknown"
    number = int(_digest(seed, "ip")[:6], 16)
    ip = f"{58 + number % 60}.{number >> 8 & 255}.{number >> 16 & 255}.{number % 250 + 2}"
    return (
        f"from {domain} (unknown [{ip}])\r\n\tby {DEPARTMENT_MX} (Coremail) with SMTP id "
        f"{_digest(seed, 'smtp')[:20]};\r\n\t{format_datetime(arrived)}"
    ).encode("ascii")


def message_id_for(style: str, sender: str, seed: str) -> str:
    """A deterministic Message-ID in the format the style's client uses."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "example.edu.cn"
    token = _digest(seed, "mid")
    if style == "qq":
        return f"<tencent_{token[:32].upper()}@qq.com>"
    if style == "netease":
        return f"<{token[:8]}.{int(token[8:14], 16)}.{token[14:24]}@{domain}>"
    if style == "foxmail":
        return f"<2022{int(token[:12], 16) % 10**14:014d}@{domain}>"
    return f"<{token[:12].upper()}${token[12:24]}${token[24:32]}@{domain}>"


def compose(
    *,
    style: str,
    sender: str,
    to: str,
    subject: str,
    content: bytes,
    date: datetime,
    arrived: datetime | None = None,
    message_id: str | None = None,
    extra_headers: dict | None = None,
) -> bytes:
    """Top-level headers in ``style`` around an already built MIME entity ``content``."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")
    seed = _digest(style, sender, to, subject, date.isoformat())
    sender_addr = parseaddr(sender)[1]
    headers: list[tuple[str, bytes | str]] = []
    if arrived is not None:
        headers.append(("Received", _received(sender_addr, arrived, seed)))
        sent = min(date, arrived) if date <= arrived else arrived - timedelta(seconds=3)
        headers.append(
            (
                "Received",
                _received(sender_addr, sent, seed + "x").replace(
                    f"by {DEPARTMENT_MX}".encode(),
                    b"by smtp." + sender_addr.rpartition("@")[2].encode(),
                ),
            )
        )
    headers += [
        ("Date", format_datetime(date)),
        ("From", _address(sender, style)),
        ("To", _address(to, style)),
        ("Subject", header_text(subject, style)),
        ("Message-ID", message_id or message_id_for(style, sender, seed)),
    ]
    if style in _MAILERS:
        headers.append(("X-Mailer", _MAILERS[style]))
    if style == "qq":
        headers.append(("X-QQ-mid", f"xmsezb{_digest(seed, 'qq')[:20]}-{int(seed[:6], 16)}"))
    if style == "netease":
        headers.append(("X-Originating-IP", "[10.12.8.66]"))
        headers.append(("X-CM-TRANSID", _digest(seed, "cm")[:28]))
    for name, value in (extra_headers or {}).items():
        headers.append((name, value if isinstance(value, bytes) else str(value)))
    headers.append(("MIME-Version", "1.0"))
    top = entity(headers, b"")[:-4]  # without the blank line: the entity's headers follow
    return top + b"\r\n" + content


def body_entity(body: str, style: str, html_text: str | None = None, seed: str = "") -> bytes:
    """The body as the style sends it: plain only for raw8bit, plain+HTML alternative otherwise."""
    if style == "raw8bit" and html_text is None:
        return text_part(body, style)
    seed = _digest(style, body, seed)
    return multipart(
        "alternative",
        [text_part(body, style), text_part(html_text or body_html(body, style), style, "html")],
        seed,
    )


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    attachments: list[tuple[str, bytes]] = (),
    style: str = "outlook",
    date: datetime,
    arrived: datetime | None = None,
    message_id: str | None = None,
    extra_headers: dict | None = None,
    html_body: str | None = None,
) -> bytes:
    """A complete message as the client of ``style`` sends it.

    ``date`` is the sender's ``Date:`` (which may lie); ``arrived`` adds the topmost
    ``Received:`` header of the department's server with that time.
    """
    content = body_entity(body, style, html_body, seed=_digest(sender, subject, date.isoformat()))
    if attachments:
        parts = [content] + [attachment_part(name, data, style) for name, data in attachments]
        content = multipart("mixed", parts, _digest(subject, body, len(attachments)))
    return compose(
        style=style,
        sender=sender,
        to=to,
        subject=subject,
        content=content,
        date=date,
        arrived=arrived,
        message_id=message_id,
        extra_headers=extra_headers,
    )


def zip_cp936(members: list[tuple[str, bytes]]) -> bytes:
    """A zip whose member names are GBK bytes without the UTF-8 flag, as Windows' zipper makes."""
    placeholders = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (name, data) in enumerate(members):
            raw = name.encode("gbk")
            placeholder = f"{number:0{len(raw)}d}"
            if len(placeholder) != len(raw):
                raise ValueError(f"member name too short to patch: {name!r}")
            info = zipfile.ZipInfo(placeholder, date_time=(2022, 3, 28, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            placeholders.append(raw)
    out = bytearray(buffer.getvalue())
    end = out.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack("<HII", out[end + 10 : end + 20])
    position = offset
    for raw in placeholders[:count]:
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", out[position + 28 : position + 34]
        )
        local = struct.unpack("<I", out[position + 42 : position + 46])[0]
        out[position + 46 : position + 46 + name_length] = raw
        out[local + 30 : local + 30 + len(raw)] = raw
        position += 46 + name_length + extra_length + comment_length
    return bytes(out)


# --- special messages ------------------------------------------------------------------------


def _qq_block(files: list[tuple[str, str]], expires: str, seed: str) -> tuple[str, str, list[str]]:
    """QQ Mail's 超大附件 block: (HTML, plain text, links) for ``files`` of (name, size text)."""
    links, rows, lines = [], [], ["从QQ邮箱发来的超大附件", ""]
    for name, size in files:
        token = _digest(seed, name)
        url = f"https://wx.mail.qq.com/ftn/download?func=3&k={token[:40]}&key={token[:40]}&code={token[:8]}&fweb=1"
        links.append(url)
        link, label = html.escape(url), html.escape(name)
        rows.append(
            f'<div class="bigatt_bt" style="clear:both;width:100%;padding:6px 0;" '
            f'title="{label}&#10;文件大小：{size}&#10;到期时间：{html.escape(expires)}">'
            f'<div style="float:left;"><a href="{link}" target="_blank"><img border="0" '
            f'src="https://rescdn.qqmail.com/zh_CN/images/mo/DEFAULT2/48/zip.gif"></a></div>'
            f'<div style="margin-left:56px;"><div><a href="{link}" target="_blank" '
            f'style="color:#000;text-decoration:none;">{label}</a> '
            f'<span style="color:#a0a0a0;">({size}, {html.escape(expires)} 到期)</span></div>'
            f'<div><a href="{link}" target="_blank" style="color:#1e5494;">进入下载页面</a></div>'
            "</div></div>"
        )
        lines += [f"{name} ({size}, {expires} 到期)", f"进入下载页面：{url}", ""]
    block = (
        '<div id="QQMailBigAttach" style="width:100%;margin-top:20px;"><!--QQMailBigAttach-->'
        '<div style="padding:2px 0 8px 0;">'
        '<b style="font-size:14px;">从QQ邮箱发来的超大附件</b></div>' + "".join(rows) + "</div>"
    )
    return block, "\n".join(lines), links


def _netease_block(
    files: list[tuple[str, str]], expires: str, seed: str
) -> tuple[str, str, list[str]]:
    """163 Mail's 超大附件 block: (HTML, plain text, links)."""
    links, rows, lines = [], [], ["从网易163邮箱发来的超大附件:"]
    for name, size in files:
        token = _digest(seed, name)
        url = (
            f"https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
            f"&file={token[:48]}&title={quote(name)}"
        )
        links.append(url)
        link, label = html.escape(url), html.escape(name)
        rows.append(
            '<div style="clear:both;height:36px;padding:6px 4px;">'
            f'<a style="float:left;" href="{link}" target="_blank">'
            '<img width="36" height="36" src="https://mimg.127.net/xm/all/fj/ico-bfile-6.gif"></a>'
            '<div style="padding-left:48px;"><div>'
            f'<a style="color:#000;text-decoration:none;" href="{link}" download="true" '
            f'filename="{label}" target="_blank">{label}</a> '
            f'<span style="color:#bbb;">({size}, {html.escape(expires)} 到期)</span></div>'
            f'<div><a style="color:#0066cc;" href="{link}" target="_blank">下载</a></div>'
            "</div></div>"
        )
        lines += [f"{name}  ({size}, {expires} 到期)", f"下载地址：{url}", ""]
    block = (
        '<div id="divNeteaseBigAttach" style="background-color:#fff;border:1px solid #e8e8e8;">'
        '<div style="padding:0 12px;margin-top:18px;">'
        '<b style="font-size:14px;">从网易163邮箱发来的超大附件</b></div>'
        '<div style="padding:0 12px 8px 12px;">' + "".join(rows) + "</div></div>"
    )
    return block, "\n".join(lines), links


def _big_attachment(
    block_maker,
    style: str,
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    files: list[tuple[str, str]],
    expires: str,
    date: datetime,
    arrived: datetime | None,
    message_id: str | None,
) -> bytes:
    block, text, _ = block_maker(files, expires, _digest(sender, subject, date.isoformat()))
    style_rule = (
        '<style id="cloudAttachStyle" type="text/css">#divNeteaseBigAttach, '
        "#divNeteaseBigAttach_bak{display:none;}</style>"
        if style == "netease"
        else ""
    )
    markup = (
        body_html(body, style)
        .replace("</head>", style_rule + "</head>")
        .replace("</body>", "<div><br></div>" + block + "</body>")
    )
    return build_message(
        sender=sender,
        to=to,
        subject=subject,
        body=body + "\n\n" + text,
        style=style,
        date=date,
        arrived=arrived,
        message_id=message_id,
        html_body=markup,
    )


def qq_big_attachment(
    *,
    sender: str,
    to: str,
    subject: str,
    files: list[tuple[str, str]],
    date: datetime,
    body: str = "",
    expires: str = "2022-04-15 10:00",
    arrived: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    """A QQ Mail message carrying 超大附件 download links (``files``: (name, size text)) instead of
    files."""
    return _big_attachment(
        _qq_block,
        "qq",
        sender=sender,
        to=to,
        subject=subject,
        body=body,
        files=files,
        expires=expires,
        date=date,
        arrived=arrived,
        message_id=message_id,
    )


def netease_big_attachment(
    *,
    sender: str,
    to: str,
    subject: str,
    files: list[tuple[str, str]],
    date: datetime,
    body: str = "",
    expires: str = "2022年4月15日 10:00",
    arrived: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    """A 163 Mail message carrying 超大附件 download links instead of files."""
    return _big_attachment(
        _netease_block,
        "netease",
        sender=sender,
        to=to,
        subject=subject,
        body=body,
        files=files,
        expires=expires,
        date=date,
        arrived=arrived,
        message_id=message_id,
    )


def auto_reply(
    *,
    sender: str,
    to: str,
    subject: str,
    date: datetime,
    arrived: datetime | None = None,
    in_reply_to: str | None = None,
    style: str = "qq",
) -> bytes:
    """An out-of-office answer (``Auto-Submitted: auto-replied``, subject 自动回复: …)."""
    extra = {"Auto-Submitted": "auto-replied"}
    if in_reply_to:
        extra.update({"In-Reply-To": in_reply_to, "References": in_reply_to})
    return build_message(
        sender=sender,
        to=to,
        subject=f"自动回复: {subject}",
        style=style,
        date=date,
        arrived=arrived,
        extra_headers=extra,
        body="您好，我正在休假中，暂时无法查看邮件，您的来信已收到，我会尽快回复。",
    )


def bounce(
    *,
    to: str,
    failed_recipient: str,
    original_subject: str,
    date: datetime,
    arrived: datetime | None = None,
    reporting_mta: str = DEPARTMENT_MX,
) -> bytes:
    """A delivery-status notification from MAILER-DAEMON (multipart/report;
    report-type=delivery-status)."""
    seed = _digest("bounce", failed_recipient, date.isoformat())
    notice = entity(
        [("Content-Description", "Notification"), ("Content-Type", "text/plain; charset=us-ascii")],
        (
            f"This is the mail system at host {reporting_mta}.\r\n\r\n"
            "I'm sorry to have to inform you that your message could not\r\n"
            "be delivered to one or more recipients.\r\n\r\n"
            f"<{failed_recipient}>: host mx.example.edu.cn said: 550 5.1.1 User unknown\r\n"
        ).encode(),
    )
    status = entity(
        [("Content-Description", "Delivery report"), ("Content-Type", "message/delivery-status")],
        (
            f"Reporting-MTA: dns; {reporting_mta}\r\nArrival-Date: {format_datetime(date)}\r\n\r\n"
            f"Final-Recipient: rfc822; {failed_recipient}\r\n"
            f"Original-Recipient: rfc822;{failed_recipient}\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        ).encode(),
    )
    headers = entity(
        [
            ("Content-Description", "Undelivered Message Headers"),
            ("Content-Type", "text/rfc822-headers"),
        ],
        b"From: zzb@example.edu.cn\r\nTo: "
        + failed_recipient.encode()
        + b"\r\nSubject: "
        + header_text(original_subject, "outlook")
        + b"\r\n",
    )
    content = multipart(
        "report", [notice, status, headers], seed, extra=" report-type=delivery-status;"
    )
    return compose(
        style="outlook",
        sender=f"Mail Delivery System <MAILER-DAEMON@{reporting_mta}>",
        to=to,
        subject="Undelivered Mail Returned to Sender",
        content=content,
        date=date,
        arrived=arrived,
        extra_headers={"Return-Path": "<>", "Auto-Submitted": "auto-replied"},
    )


def forwarded(
    inner: bytes,
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    date: datetime,
    arrived: datetime | None = None,
    style: str = "outlook",
    message_id: str | None = None,
) -> bytes:
    """A message forwarding ``inner`` as a message/rfc822 attachment."""
    inner = inner.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    wrapped = entity(
        [("Content-Type", "message/rfc822"), ("Content-Disposition", "attachment")], inner
    )
    content = multipart(
        "mixed",
        [body_entity(body, style, seed="fwd" + subject), wrapped],
        _digest("fwd", subject, date.isoformat()),
    )
    return compose(
        style=style,
        sender=sender,
        to=to,
        subject=subject,
        content=content,
        date=date,
        arrived=arrived,
        message_id=message_id,
    )
