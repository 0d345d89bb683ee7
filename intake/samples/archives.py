"""Builders of sample archives: zip (with GBK names and no UTF-8 flag), RAR 4 and 7z, and zips
written by hand from members packed elsewhere (bombs true to their sizes, for the hostile tests
and ``benchmarks/hostile.py``)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def zip_archive(
    members: list[tuple[str, bytes]], *, encoding: str = "utf-8", utf8_flag: bool = True
) -> bytes:
    """A .zip of ``members``; with encoding "gbk" the names are stored in GBK without the
    UTF-8 flag, as the archivers of Chinese Windows write them (``utf8_flag=False`` stores
    UTF-8 names without the flag, as some macOS tools do)."""
    if encoding.lower().replace("-", "") == "utf8" and utf8_flag:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members:
                archive.writestr(name, content)
        return buf.getvalue()
    # zipfile always writes non-ASCII names as flagged UTF-8: write unique ASCII stand-ins of
    # the same byte length, then put the encoded names in their place in both headers.
    encoded = [name.encode(encoding) for name, _ in members]
    stand_ins = [
        (b"%05d" % i + b"_" * len(raw))[: len(raw)] if len(raw) >= 5 else None
        for i, raw in enumerate(encoded)
    ]
    if any(s is None for s in stand_ins):
        raise ValueError("names must be at least 5 bytes long in the target encoding")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for stand_in, (_, content) in zip(stand_ins, members, strict=True):
            archive.writestr(stand_in.decode("ascii"), content)
    out = buf.getvalue()
    for stand_in, raw in zip(stand_ins, encoded, strict=True):
        assert out.count(stand_in) == 2, "stand-in name must be unique"
        out = out.replace(stand_in, raw)
    return out


def rar_archive(members: list[tuple[str, bytes]], *, encoding: str = "utf-8") -> bytes:
    """A RAR 4 archive of stored (uncompressed) ``members``, written by hand (no RAR writer is free
    software). UTF-8 names carry the Unicode flag; ``encoding="gbk"`` stores them without it, as
    old WinRAR on Chinese Windows did."""

    def block(head_type: int, flags: int, body: bytes) -> bytes:
        header = (
            bytes([head_type])
            + flags.to_bytes(2, "little")
            + (len(body) + 7).to_bytes(2, "little")
            + body
        )
        return (zlib.crc32(header) & 0xFFFF).to_bytes(2, "little") + header

    out = [b"Rar!\x1a\x07\x00", block(0x73, 0, b"\0" * 6)]
    dos_time = ((2022 - 1980) << 25) | (3 << 21) | (25 << 16) | (9 << 11)
    for name, content in members:
        raw = name.replace("/", "\\").encode(encoding)
        unicode_flag = (
            0x200 if encoding.lower().replace("-", "") == "utf8" and not name.isascii() else 0
        )
        body = (
            len(content).to_bytes(4, "little") * 2
            + b"\x02"
            + zlib.crc32(content).to_bytes(4, "little")
            + dos_time.to_bytes(4, "little")
            + b"\x14\x30"
            + len(raw).to_bytes(2, "little")
            + (0x20).to_bytes(4, "little")
            + raw
        )
        out.append(block(0x74, 0x8000 | unicode_flag, body) + content)
    out.append(block(0x7B, 0x4000, b""))
    return b"".join(out)


def sevenzip_archive(members: list[tuple[str, bytes]]) -> bytes:
    """A .7z archive of ``members`` (LZMA2, names in UTF-16 as 7-Zip stores them)."""
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, content in members:
            archive.writestr(content, name)
    return buf.getvalue()


def repeated_deflate(unit: bytes, times: int, *, wrapper: str = "raw") -> tuple[bytes, int, int]:
    """A deflate stream of ``unit`` repeated ``times`` times, built from one fully flushed block
    (the dictionary resets, so the block repeats): a true 4 GB of zeros in 4 MB and a second.
    Returns the stream, its CRC-32 (``wrapper="zlib"``: its Adler-32, with the zlib header and
    trailer, as PDF and PNG want it) and the length of what it unpacks to."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * times + compressor.flush(zlib.Z_FINISH)
    raw = wrapper == "raw"
    check = 0 if raw else 1
    for _ in range(times):
        check = zlib.crc32(unit, check) if raw else zlib.adler32(unit, check)
    if not raw:
        stream = b"\x78\xda" + stream + check.to_bytes(4, "big")
    return stream, check, len(unit) * times


PackedEntry = tuple[str, int, int, bytes, int]
"""A member already packed for ``packed_zip``: name, CRC-32, size, packed bytes, method (8
deflate, 0 stored)."""


def zeros_entry(name: str, megabytes: int) -> PackedEntry:
    """A member of ``megabytes`` MB of zeros, deflated (``repeated_deflate``)."""
    stream, crc, size = repeated_deflate(b"\0" * (1024 * 1024), megabytes)
    return name, crc, size, stream, 8


def packed_zip(entries: list[PackedEntry]) -> bytes:
    """A zip written by hand from already packed members (UTF-8 names), so that a member
    deflated elsewhere goes in as it is; true to every size it declares."""
    out, central = io.BytesIO(), []
    for name, crc, size, packed, method in entries:
        raw, offset = name.encode(), out.tell()
        common = struct.pack(
            "<4H3L2H", 0x800, method, 0, 0x5481, crc, len(packed), size, len(raw), 0
        )
        out.write(b"PK\x03\x04" + struct.pack("<H", 20) + common + raw + packed)
        central.append(
            b"PK\x01\x02"
            + struct.pack("<2H", 20, 20)
            + common
            + struct.pack("<3H2L", 0, 0, 0, 0, offset)
            + raw
        )
    start = out.tell()
    out.write(b"".join(central))
    count = min(len(entries), 0xFFFF)
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, out.tell() - start, start, 0)
    )
    return out.getvalue()
