"""Safety checks on Office Open XML packages (.docx/.xlsx) before a library parses them.

A package is refused when it lacks its main part, declares more than ``MAX_UNPACKED`` bytes
unpacked (zipfile enforces the declared sizes when reading), has an encrypted member, holds an
XML part over ``MAX_XML_PART`` or any XML part with a DTD, an entity or an external reference
(checked with defusedxml, so "billion laughs" and XXE never reach lxml or openpyxl).
"""

from __future__ import annotations

import zipfile

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

MAX_UNPACKED = 200 * 1024 * 1024
MAX_XML_PART = 50 * 1024 * 1024
MAX_MEMBERS = 5000


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
        try:
            safe_xml.fromstring(archive.read(info), forbid_dtd=True)
        except DefusedXmlException as exc:  # a DTD, entity or external reference: a bomb
            raise PackageRefused(f"{info.filename}: {exc}") from exc
        except safe_xml.ParseError as exc:
            if info.filename in (required, "[Content_Types].xml"):
                raise PackageRefused(f"{info.filename}: {exc}") from exc
