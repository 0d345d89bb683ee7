"""Turning the bytes of Chinese mail into text: charset labels, RFC 2047, RFC 2231, raw 8-bit.

Chinese clients label GBK text as ``gb2312`` and split multi-byte characters across
encoded-words; servers pass raw GBK or UTF-8 bytes in headers. Everything here decodes
leniently and never raises: the worst case is a replacement character, never lost text.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from urllib.parse import unquote_to_bytes

import charset_normalizer

# Labels that real mail uses for text that is in fact GBK (or GB18030): decode them all with
# the superset so characters such as 镕 or 喆 survive.
_GB_LABELS = {
    "gb2312",
    "gb_2312",
    "gb_2312-80",
    "gb2312-80",
    "csgb2312",
    "euc-cn",
    "euccn",
    "x-euc-cn",
    "gbk",
    "cp936",
    "x-gbk",
    "ms936",
    "windows-936",
    "chinese",
    "iso-ir-58",
    "gb18030",
    "hz-gb-2312",
}
_BIG5_LABELS = {"big5", "x-big5", "cn-big5", "csbig5", "big5-hkscs", "big5hkscs", "cp950", "ms950"}

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def codec_for(label: str | None) -> str | None:
    """The Python codec to decode text labelled ``label``, or None when the label is unknown.

    GB2312/EUC-CN/GBK/CP936 labels map to ``gb18030``, Big5 labels to ``big5hkscs``.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").split("*", 1)[0].lower()
    if name in _GB_LABELS:
        return "hz" if name == "hz-gb-2312" else "gb18030"
    if name in _BIG5_LABELS:
        return "big5hkscs"
    if name in ("unknown-8bit", "x-unknown", "us-ascii", "ascii", "default"):
        return None if name != "us-ascii" and name != "ascii" else "ascii"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def guess_decode(data: bytes) -> str:
    """Decode bytes of unknown charset: UTF-8, then GB18030, then Big5, then charset-normalizer."""
    if not data:
        return ""
    for codec in ("utf-8", "gb18030", "big5hkscs"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    try:
        best = charset_normalizer.from_bytes(data).best()
    except Exception:  # charset-normalizer on odd input: fall through to a lossy decode
        best = None
    if best is not None:
        return str(best)
    return data.decode("utf-8", errors="replace")


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode ``data`` labelled with charset ``label`` (may be None or wrong), never raising."""
    codec = codec_for(label)
    if codec and codec != "ascii":
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    if codec == "ascii" or codec is None:
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            pass
    text = guess_decode(data)
    if codec and "\ufffd" in text:
        return data.decode(codec, errors="replace")
    return text


def unescape_raw(value: str) -> str:
    """Recover text from a header value whose raw 8-bit bytes are surrogate-escaped.

    ``email`` keeps undecodable header bytes as lone surrogates; turn them back into bytes and
    decode them as UTF-8, GB18030, Big5 or whatever charset-normalizer says.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    try:
        data = value.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="replace").decode("utf-8")
    return guess_decode(data)


def _word_bytes(encoding: str, text: str) -> bytes:
    """The bytes an RFC 2047 encoded-word carries."""
    if encoding in "Bb":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return b""
    return quopri.decodestring(
        text.replace("_", " ").encode("ascii", errors="replace"), header=False
    )


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words anywhere in ``value`` (also inside quotes).

    Adjacent encoded-words in the same charset are joined as bytes before decoding, since
    Chinese clients split one character across two words; white space between them is dropped.
    """
    value = unescape_raw(value)
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []
    pos = 0

    def flush() -> None:
        if pending:
            charset = pending[0][0]
            out.append(decode_bytes(b"".join(chunk for _, chunk in pending), charset))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(between)
        charset = match.group(1)
        if pending and codec_for(pending[0][0]) != codec_for(charset):
            flush()
        pending.append((charset, _word_bytes(match.group(2), match.group(3))))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)


def unfold(value: str) -> str:
    """Unfold a header value: line breaks with their following white space become one space."""
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _split_params(value: str) -> list[str]:
    """Split a structured header value on ``;`` outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if value.startswith('"'):  # an unterminated quote: keep what is there
        return value[1:]
    return value


def _rfc2231(segments: list[tuple[int, bool, str]]) -> str:
    """Join RFC 2231 segments ``(index, encoded, text)`` and decode them with their charset."""
    segments.sort(key=lambda seg: seg[0])
    charset = None
    chunks: list[bytes] = []
    for number, (_, encoded, text) in enumerate(segments):
        if number == 0 and encoded and text.count("'") >= 2:
            charset, _lang, text = text.split("'", 2)
        if encoded:
            chunks.append(unquote_to_bytes(text))
        else:
            chunks.append(text.encode("utf-8", errors="surrogateescape"))
    return decode_bytes(b"".join(chunks), charset or None)


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type/Content-Disposition value into its lower-case main value and params.

    Parameter values are fully decoded: RFC 2231 (``name*=``, ``name*0*=`` continuations),
    RFC 2047 inside quotes, and raw 8-bit bytes. Names are lower-case.
    """
    parts = _split_params(unfold(value or ""))
    main = parts[0].lower().strip() if parts else ""
    plain: dict[str, str] = {}
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for part in parts[1:]:
        if "=" not in part:
            continue
        name, _, raw = part.partition("=")
        name = name.strip().lower()
        match = re.fullmatch(r"([^*]+)\*(?:(\d+)(\*)?)?", name)
        if match and (match.group(2) is not None or name.endswith("*")):
            index = int(match.group(2) or 0)
            encoded = name.endswith("*")
            extended.setdefault(match.group(1), []).append((index, encoded, _unquote(raw)))
        else:
            plain.setdefault(name, _unquote(raw))
    params = {name: decode_words(text) for name, text in plain.items()}
    for name, segments in extended.items():
        try:
            decoded = _rfc2231(segments)
        except Exception:  # a malformed RFC 2231 value: keep the plain form if any
            continue
        params[name] = decode_words(decoded) if "=?" in decoded else decoded
    return main, params
