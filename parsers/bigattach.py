"""Recognise "超大附件" (large-file download links) that QQ Mail and NetEase 163/126 put in a mail.

Instead of attaching a big file these webmails upload it and insert a block into the HTML body
(QQ: ``QQMailBigAttach`` / ``bigatt_bt`` with a ``ftnExs_download`` or ``ftn/download`` link;
NetEase: ``divNeteaseBigAttach`` with a ``large-attachment-download`` link) and a matching
paragraph into the plain-text body. The link expires, so the sender must be asked to attach the
file. A bare ``#divNeteaseBigAttach{display:none}`` style rule — part of every 163 HTML mail —
is not a big attachment: only a download link counts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class BigAttachment:
    """One "超大附件" download link found in a mail body."""

    filename: str
    url: str
    provider: str  # "qq" | "netease" | "other"
    expires: str | None  # the expiry text as written in the mail, e.g. "2022-04-15 10:00"


_QQ_URL = re.compile(
    r"https?://[\w.-]*mail\.qq\.com/(?:cgi-bin/ftnExs_download|ftn/download)", re.I
)
_NETEASE_URL = re.compile(
    r"https?://(?:[\w.-]*\.)?(?:mail\.(?:163|126)\.com|mail\.yeah\.net)/"
    r"(?:large-attachment-download|[\w/-]*(?:bigattach|largeattach|ftn)[\w/-]*)"
    r"|https?://fs\.(?:163|126)\.com/",
    re.I,
)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'）)\]】]+", re.I)
_DATE = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
)
_EXPIRY_WORDS = ("到期", "过期", "有效期", "失效")
# A file name inside running text: no white space, separators or quotes, but brackets may be part
# of it (机关党委工作总结（盖章）.pdf); an unbalanced opening bracket before it is not.
_FILE_NAME = re.compile(r"[^\s/\\:：，,<>\"'“”‘’]+\.[A-Za-z][A-Za-z0-9]{0,4}(?![A-Za-z0-9])")
# A whole string that is a file name (an anchor's text, a title's first line): spaces allowed.
_WHOLE_NAME = re.compile(r"[^/\\<>\"\r\n\t:：]*[^\s/\\<>\"]\.[A-Za-z][A-Za-z0-9]{0,4}")
_BRACKETS = {"（": "）", "(": ")", "【": "】", "[": "]", "《": "》", "「": "」", "〔": "〕"}
_TEXT_MARKERS = ("超大附件", "下载地址", "下载链接", "进入下载页面")


def provider_of(url: str) -> str | None:
    """``"qq"`` or ``"netease"`` for a known big-attachment link, else None."""
    if _QQ_URL.match(url):
        return "qq"
    if _NETEASE_URL.match(url):
        return "netease"
    return None


def _expiry_in(text: str) -> str | None:
    """The expiry date-time written in ``text`` (preferring one next to 到期/过期/有效期)."""
    best = None
    for match in _DATE.finditer(text):
        window = text[max(0, match.start() - 12) : match.end() + 6]
        if any(word in window for word in _EXPIRY_WORDS):
            return match.group(0).strip()
        best = best or match.group(0).strip()
    if best and any(word in text for word in _EXPIRY_WORDS):
        return best
    return None


def _name_from_url(url: str) -> str:
    """A file name carried in the link's query (``file=``, ``name=``, ``filename=``), if any."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return ""
    for key in ("filename", "name", "fn", "file"):
        for value in query.get(key, []):
            value = unquote(value).strip()
            if _FILE_NAME.fullmatch(value):
                return value
    return ""


def _file_name_in(text: str) -> str:
    """The last thing in ``text`` that looks like a file name (``xxx.zip``), brackets of the name
    kept whole (``总结（盖章）.pdf``), an unclosed bracket opening before it dropped."""
    names = _FILE_NAME.findall(_URL_IN_TEXT.sub(" ", text or ""))
    return _balanced(names[-1].strip()) if names else ""


def _whole_name(text: str) -> str:
    """``text`` itself when all of it is one file name (spaces and brackets included), else the
    last file name in it."""
    text = (text or "").strip()
    if _WHOLE_NAME.fullmatch(text) and not _URL_IN_TEXT.search(text):
        return _balanced(text)
    return _file_name_in(text)


def _balanced(name: str) -> str:
    """``name`` without a leading part cut off by an opening bracket that never closes
    (``附件(材料.zip`` -> ``材料.zip``)."""
    depth: list[tuple[str, int]] = []
    for at, char in enumerate(name):
        if char in _BRACKETS:
            depth.append((char, at))
        elif depth and char == _BRACKETS[depth[-1][0]]:
            depth.pop()
    return name[depth[-1][1] + 1 :].strip() if depth else name


class _LinkCollector(HTMLParser):
    """Walks HTML, keeping the document text and every big-attachment link with its context."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[dict] = []
        self._titles: list[str | None] = []
        self._anchor: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {key.lower(): (value or "") for key, value in attrs}
        if tag not in _VOID:
            self._titles.append(attributes.get("title"))
        if tag == "a":
            href = html.unescape(attributes.get("href", "")).strip()
            provider = provider_of(href)
            if provider:
                title = next((t for t in reversed(self._titles) if t), "")
                self._anchor = {
                    "url": href,
                    "provider": provider,
                    "attrs": attributes,
                    "title": title,
                    "text": [],
                    "offset": len("".join(self.text)),
                }
        if tag in ("br", "div", "p", "tr", "li"):
            self.text.append("\n")

    def handle_endtag(self, tag):
        if tag not in _VOID and self._titles:
            self._titles.pop()
        if tag == "a" and self._anchor is not None:
            self._anchor["text"] = "".join(self._anchor["text"]).strip()
            self.links.append(self._anchor)
            self._anchor = None

    def handle_data(self, data):
        self.text.append(data)
        if self._anchor is not None:
            self._anchor["text"].append(data)


_VOID = {"br", "img", "hr", "meta", "input", "link", "col", "area", "base", "wbr", "source"}


def _from_links(links: list[dict], text: str) -> list[BigAttachment]:
    """Merge the anchors of each link into one BigAttachment with a name and an expiry."""
    found: dict[str, BigAttachment] = {}
    for index, link in enumerate(links):
        url = link["url"]
        following = links[index + 1]["offset"] if index + 1 < len(links) else len(text)
        context = text[link["offset"] : max(following, link["offset"] + 80)][:300]
        attrs, title = link["attrs"], link["title"]
        name = (
            (attrs.get("filename") or "").strip()
            or (
                attrs.get("download")
                if attrs.get("download", "").lower() not in ("", "true")
                else ""
            )
            or _whole_name(title.splitlines()[0] if title else "")
            or _whole_name(link["text"])
            or _name_from_url(url)
        )
        expires = _expiry_in(title) or _expiry_in(context)
        item = found.get(url)
        if item is None:
            found[url] = BigAttachment(name, url, link["provider"], expires)
        else:
            item.filename = item.filename or name
            item.expires = item.expires or expires
    return list(found.values())


def find_in_html(markup: str) -> list[BigAttachment]:
    """Big-attachment links in an HTML body."""
    collector = _LinkCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # html.parser on hostile markup: fall back to what was collected
        pass
    return _from_links(collector.links, "".join(collector.text))


def find_in_text(text: str) -> list[BigAttachment]:
    """Big-attachment links in a plain-text body.

    A link counts when its host is a known big-attachment service, or when the text speaks of
    a "超大附件" (then the provider is ``"other"`` unless the host tells).
    """
    marked = any(marker in text for marker in _TEXT_MARKERS)
    lines = text.splitlines()
    found: dict[str, BigAttachment] = {}
    for number, line in enumerate(lines):
        for match in _URL_IN_TEXT.finditer(line):
            url = match.group(0).rstrip(".,;，。；")
            provider = provider_of(url) or ("other" if marked else None)
            if provider is None or url in found:
                continue
            before = line[: match.start()]
            nearby = [before] + lines[max(0, number - 3) : number][::-1]
            name = next((n for n in map(_file_name_in, nearby) if n), "") or _name_from_url(url)
            window = "\n".join(lines[max(0, number - 3) : number + 4])
            found[url] = BigAttachment(name, url, provider, _expiry_in(window))
    return list(found.values())


def _fuller(known: str, other: str) -> str:
    """The fuller of two names read for one link: the plain text may have lost what the HTML
    kept (``工作总结.pdf`` against ``2022 工作总结.pdf``)."""
    if not known:
        return other
    if other and len(other) > len(known) and other.endswith(known):
        return other
    return known


def merge(*groups: list[BigAttachment]) -> list[BigAttachment]:
    """Join results from several body parts, one entry per URL, keeping the fullest facts."""
    merged: dict[str, BigAttachment] = {}
    for group in groups:
        for item in group:
            known = merged.get(item.url)
            if known is None:
                merged[item.url] = BigAttachment(
                    item.filename, item.url, item.provider, item.expires
                )
                continue
            known.filename = _fuller(known.filename, item.filename)
            known.expires = known.expires or item.expires
            if known.provider == "other":
                known.provider = item.provider
    return list(merged.values())
