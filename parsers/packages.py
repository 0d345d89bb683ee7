"""Safety checks on Office Open XML packages (.docx/.xlsx) before a library parses them.

A package is refused when it lacks its main part, declares more than ``MAX_UNPACKED`` bytes
unpacked (zipfile enforces the declared sizes when reading), has an encrypted member, holds an
XML part over ``MAX_XML_PART`` or any XML part with a DTD, an entity or an external reference
(so "billion laughs" and XXE never reach lxml or openpyxl), or a workbook's shared strings number
more than ``MAX_SHARED_STRINGS``. What the zip's directory declares
is checked first, before anything is decompressed. Each XML part is then decompressed a chunk at
a time and its bytes searched for ``<!DOCTYPE`` or ``<!ENTITY`` (in C, no parse; what
defusedxml's ``forbid_dtd`` refuses is refused here too, as an entity or an external reference
needs a DTD to declare it). A byte search holds for every encoding that writes ASCII as ASCII
(UTF-8, the Latin and GB ones); a part in another encoding (UTF-16, or one declared otherwise) is
parsed by expat instead, with no tree built, and must be well-formed when it is the main part.
"""

from __future__ import annotations

import re
import zipfile
from xml.parsers import expat

MAX_UNPACKED = 200 * 1024 * 1024
MAX_XML_PART = 50 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_SHARED_STRINGS = 200_000  # a results table has a few thousand; 10 full sheets, 800 000 cells
_CHUNK = 1024 * 1024
_XML_PARTS = (".xml", ".rels", ".vml")
_DTD = re.compile(rb"<!(?i:DOCTYPE|ENTITY)")
_OVERLAP = len(b"<!DOCTYPE") - 1  # a declaration cut by a chunk's end is found in the next one
_DECLARED = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_ASCII_ENCODINGS = {
    "utf-8",
    "utf8",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "latin1",
    "latin-1",
    "windows-1252",
    "cp1252",
    "gbk",
    "gb2312",
    "gb18030",
}
"""Encodings that write every ASCII character as its ASCII byte: in them ``<!DOCTYPE`` can only
be written as those very bytes."""


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of an OLE compound file: legacy .doc/.xls/.wps/.et, or encrypted OOXML."""


def is_encrypted_ole(data: bytes) -> bool:
    """An OLE file that is a password-protected Office document (OOXML in an EncryptedPackage)."""
    return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data


class PackageRefused(Exception):
    """The package is damaged, encrypted, too large or hostile."""


def check_package(archive: zipfile.ZipFile, required: str) -> None:
    """Raise PackageRefused unless ``archive`` is a sane package holding the part ``required``."""
    infos = archive.infolist()
    _check_directory(infos, required)
    for info in infos:
        if not info.filename.endswith(_XML_PARTS):
            continue
        main = info.filename in (required, "[Content_Types].xml")
        counted = info.filename.endswith("sharedStrings.xml")
        with archive.open(info) as stream:
            strings = _check_xml(stream, info.filename, strict=main, count=counted)
        if counted and strings > MAX_SHARED_STRINGS:
            raise PackageRefused(f"{info.filename}: {strings} shared strings")


def _check_directory(infos: list[zipfile.ZipInfo], required: str) -> None:
    """What the zip's central directory declares, checked before anything is decompressed."""
    if len(infos) > MAX_MEMBERS:
        raise PackageRefused("too many parts")
    if not any(i.filename == required or i.filename.startswith(required) for i in infos):
        raise PackageRefused(f"no {required}")
    if sum(i.file_size for i in infos) > MAX_UNPACKED or any(i.flag_bits & 1 for i in infos):
        raise PackageRefused("too large or encrypted")
    for info in infos:
        if info.filename.endswith(_XML_PARTS) and info.file_size > MAX_XML_PART:
            raise PackageRefused(f"{info.filename} too large")


def _check_xml(stream, name: str, *, strict: bool, count: bool) -> int:  # noqa: ANN001
    """Check an XML part (a binary stream) a chunk at a time; raise PackageRefused for a DTD, an
    entity or an external reference (and, when ``strict`` and expat parses it, for malformed
    XML). With ``count``, returns how many ``<si>`` elements (shared strings) it holds, counted
    in the bytes (else 0)."""
    first = stream.read(_CHUNK)
    if not _ascii_compatible(first):
        return _parse_xml(first, stream, name, strict=strict, count=count)
    strings, tail, chunk = 0, b"", first
    while chunk:
        if _DTD.search(tail + chunk):
            raise PackageRefused(f"{name}: DTD or entity")
        strings += _strings(chunk) if count else 0
        tail = chunk[-_OVERLAP:]
        chunk = stream.read(_CHUNK)
    return strings


def _ascii_compatible(head: bytes) -> bool:
    """Whether a part's first bytes say it is written in an encoding of ``_ASCII_ENCODINGS``: no
    UTF-16/32 byte order mark or zero bytes at its start, and no other encoding declared."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head[:4].count(b"\x00") or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return False
    start = head.lstrip()
    if start and not start.startswith(b"<"):
        return False  # EBCDIC or other bytes no Office writer makes
    declared = _DECLARED.match(start[:200])
    return declared is None or declared.group(1).decode("ascii").lower() in _ASCII_ENCODINGS


def _parse_xml(first: bytes, stream, name: str, *, strict: bool, count: bool) -> int:  # noqa: ANN001
    """``_check_xml`` for a part in another encoding: parsed by expat with no tree built."""

    def refuse(*_args: object) -> None:
        raise PackageRefused(f"{name}: DTD or entity")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    strings, chunk = 0, first
    try:
        while chunk:
            strings += _strings(chunk) if count else 0
            parser.Parse(chunk, False)
            chunk = stream.read(_CHUNK)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        if strict:
            raise PackageRefused(f"{name}: {exc}") from exc
    return strings


def _strings(chunk: bytes) -> int:
    """The ``<si>`` elements (shared strings) begun in a chunk of bytes."""
    return chunk.count(b"<si>") + chunk.count(b"<si ") + chunk.count(b":si>")
