"""Safety checks on Office Open XML packages (.docx/.xlsx) before a library parses them.

A package is refused when it lacks its main part, declares more than ``MAX_UNPACKED`` bytes
unpacked (zipfile enforces the declared sizes when reading), has an encrypted member, holds an
XML part over ``MAX_XML_PART`` or any XML part with a DTD, an entity or an external reference
(so "billion laughs" and XXE never reach lxml or openpyxl), or a workbook's shared strings number
more than ``MAX_SHARED_STRINGS``. XML parts are checked as they are decompressed, a chunk at a
time, by expat with no tree built (what defusedxml's ``forbid_dtd`` refuses, refused here too).
"""

from __future__ import annotations

import zipfile
from xml.parsers import expat

MAX_UNPACKED = 200 * 1024 * 1024
MAX_XML_PART = 50 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_SHARED_STRINGS = 200_000  # a results table has a few thousand; 10 full sheets, 800 000 cells
_CHUNK = 1024 * 1024


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
    if len(infos) > MAX_MEMBERS:
        raise PackageRefused("too many parts")
    if not any(i.filename == required or i.filename.startswith(required) for i in infos):
        raise PackageRefused(f"no {required}")
    if sum(i.file_size for i in infos) > MAX_UNPACKED or any(i.flag_bits & 1 for i in infos):
        raise PackageRefused("too large or encrypted")
    for info in infos:
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        if info.file_size > MAX_XML_PART:
            raise PackageRefused(f"{info.filename} too large")
        main = info.filename in (required, "[Content_Types].xml")
        with archive.open(info) as stream:
            strings = _check_xml(stream, info.filename, strict=main)
        if info.filename.endswith("sharedStrings.xml") and strings > MAX_SHARED_STRINGS:
            raise PackageRefused(f"{info.filename}: {strings} shared strings")


def _check_xml(stream, name: str, *, strict: bool) -> int:  # noqa: ANN001 - a binary stream
    """Parse an XML part a chunk at a time; raise PackageRefused for a DTD, an entity or an
    external reference (and, when ``strict``, for malformed XML). Returns how many ``<si>``
    elements (shared strings) it holds, counted in the bytes."""

    def refuse(*_args: object) -> None:
        raise PackageRefused(f"{name}: DTD or entity")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    strings = 0
    try:
        while chunk := stream.read(_CHUNK):
            strings += chunk.count(b"<si>") + chunk.count(b"<si ") + chunk.count(b":si>")
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        if strict:
            raise PackageRefused(f"{name}: {exc}") from exc
    return strings
