"""The OOXML safety check: declarations found in the bytes, whatever the chunking or encoding."""

import io
import zipfile

import pytest

from parsers import packages
from parsers.packages import PackageRefused, check_package

BODY = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
DECLARED = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _package(parts):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for name, body in parts.items():
            archive.writestr(name, body)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def _check(parts):
    check_package(_package({"word/document.xml": BODY, **parts}), "word/document.xml")


def test_a_sane_package_passes():
    _check({"word/styles.xml": DECLARED + b"<w:styles/>"})


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE x [<!ENTITY e "e">]>',
        b'<!DOCTYPE x SYSTEM "http://example.com/x.dtd">',
        b'<!ENTITY e SYSTEM "file:///etc/passwd">',
        b"<!doctype x>",
    ],
)
def test_a_declaration_in_any_part_is_refused(doctype):
    with pytest.raises(PackageRefused):
        _check({"docProps/custom.xml": DECLARED + doctype + b"<x/>"})


def test_a_declaration_cut_by_a_chunk_boundary_is_found(monkeypatch):
    monkeypatch.setattr(packages, "_CHUNK", 64)
    start = (DECLARED + b"<!-- " + b"p" * 200)[:120] + b" -->"  # "<!DO" ends the 2nd chunk
    body = start + b"<!DOCTYPE x>" + b"<x/>"
    cut = body.index(b"<!DOCTYPE") + 4
    assert cut % 64 == 0
    with pytest.raises(PackageRefused):
        _check({"word/styles.xml": body})


def test_a_utf16_part_is_parsed_and_its_declaration_refused():
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'
    with pytest.raises(PackageRefused):
        _check({"word/styles.xml": text.encode("utf-16")})
    _check({"word/styles.xml": '<?xml version="1.0" encoding="UTF-16"?><x/>'.encode("utf-16")})


def test_sizes_are_refused_before_anything_is_read(monkeypatch):
    monkeypatch.setattr(packages, "MAX_XML_PART", 10)
    archive = _package({"word/document.xml": BODY})
    monkeypatch.setattr(archive, "open", lambda *a, **k: pytest.fail("a part was decompressed"))
    with pytest.raises(PackageRefused, match="too large"):
        check_package(archive, "word/document.xml")
