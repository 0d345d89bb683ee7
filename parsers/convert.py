"""Converting legacy Word files (.doc, WPS files in Word's binary format) to .docx, and BIFF
workbooks xlrd cannot fully read (.xls/.et) to .xlsx.

We measured both converters Debian packages on a generated 30 KB .doc (2 cases, 5 photos):

- antiword 0.37: 0.01 s, 2 MB; plain text with ``[pic]`` markers, but no paragraph styles,
  alignment or floating pictures, so captions by style and photo counts would be guessed;
- LibreOffice 7.4 headless (``libreoffice-writer-nogui``): about 1.1 s and 215 MB per file with
  a fresh profile; the .docx it writes gives the same facts as the original (titles, 字 counts,
  photos and captions), so the .doc goes through the very same summary rules.

LibreOffice it is. Where LibreOffice's ``uno`` module is installed (``python3-uno``, which
Debian's LibreOffice packages pull in), one office is kept running per process
(``parsers.office``): about 0.1 s a file instead of a start per file. Otherwise it runs once per
file in a subprocess in a private temp dir (its own profile, the input under a fixed name, never
a name from mail), with a time limit, an address-space limit, a file-size limit and no network
use; the running office has the same limits but the CPU one, which a long-lived process would
outgrow, and a wall-clock limit per file instead. A missing
binary raises ``ConverterMissing``, a failed conversion ``ConversionFailed``: the caller turns
them into ``unsupported_format`` and ``unreadable``.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import office

TIMEOUT_SECONDS = 60
_CANDIDATES = ("soffice", "libreoffice")


class ConverterMissing(Exception):
    """No LibreOffice binary on this machine."""


class ConversionFailed(Exception):
    """The converter ran but gave no output (corrupt, encrypted, not that format, or the
    LibreOffice module for it is not installed)."""


def converter_path() -> str | None:
    """The LibreOffice binary to run, or None when it is not installed."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _limits() -> None:
    """Resource limits for the converter process (runs in the child before exec)."""
    office.limit_office()
    resource.setrlimit(resource.RLIMIT_CPU, (TIMEOUT_SECONDS, TIMEOUT_SECONDS))


def doc_to_docx(data: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The .docx bytes LibreOffice makes of a binary Word document ``data``."""
    return _convert(data, "doc", "docx:MS Word 2007 XML", "docx", timeout=timeout)


def xls_to_xlsx(data: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The .xlsx bytes LibreOffice Calc (``libreoffice-calc-nogui``) makes of a BIFF workbook
    ``data``: the fallback for .xls/.et files xlrd cannot fully read."""
    return _convert(
        data, "xls", "xlsx:Calc MS Excel 2007 XML", "xlsx", timeout=timeout, infilter="MS Excel 97"
    )


def _convert(
    data: bytes,
    suffix: str,
    target: str,
    out_suffix: str,
    *,
    timeout: float,
    infilter: str | None = None,
) -> bytes:
    """Run LibreOffice headless on ``data`` (written as input.<suffix>) and return the
    input.<out_suffix> it writes."""
    binary = converter_path()
    if binary is None:
        raise ConverterMissing("LibreOffice (soffice) is not installed")
    try:
        converted = office.convert_with_worker(
            binary,
            data,
            suffix,
            target.split(":", 1)[1],  # the export filter's name, without --convert-to's suffix
            out_suffix,
            infilter=infilter,
            timeout=timeout,
        )
    except office.WorkerTimedOut as exc:
        raise ConversionFailed(str(exc)) from exc
    except office.WorkerFailed:
        # the office kept running may have been left broken by an earlier file: this one gets a
        # LibreOffice of its own before it is called unreadable
        converted = None
    if converted is not None:
        return converted
    return _convert_once(
        binary, data, suffix, target, out_suffix, timeout=timeout, infilter=infilter
    )


def _convert_once(
    binary: str,
    data: bytes,
    suffix: str,
    target: str,
    out_suffix: str,
    *,
    timeout: float,
    infilter: str | None,
) -> bytes:
    """Start LibreOffice for this one file (no Python with ``uno`` here): about a second."""
    with tempfile.TemporaryDirectory(prefix="intake-doc-") as work:
        folder = Path(work)
        source = folder / f"input.{suffix}"
        source.write_bytes(data)
        command = [
            binary,
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            *([f"--infilter={infilter}"] if infilter else []),
            "--convert-to",
            target,
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        process = subprocess.Popen(
            command,
            cwd=work,
            env=office.office_env(work),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_limits,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            office.kill_group(process)
            raise ConversionFailed("converter timed out") from exc
        finally:
            office.kill_group(process)  # soffice may leave a child behind
        result = folder / "out" / f"input.{out_suffix}"
        if process.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            raise ConversionFailed(f"converter exit status {process.returncode}")
        return result.read_bytes()
