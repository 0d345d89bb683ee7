"""A long-lived LibreOffice converter: this script is run by a Python that has LibreOffice's
``uno`` module (Debian's ``python3-uno``, not the service's own interpreter), starts one headless
``soffice`` listening on a private UNO pipe, and converts the files named on standard input, one
JSON line a job, answering one JSON line each on standard output.

It imports nothing from intake: ``parsers.office`` starts it and owns its process group, time
limits and restarts. A job is ``{"source": path, "target": path, "filter": name, "infilter":
name-or-null}``; the answer is ``{"ok": true}`` or ``{"ok": false, "error": text}``. Documents
are opened hidden and read-only, with macros never run and links never updated.

Usage: uno_worker.py SOFFICE PROFILE_URL PIPE_NAME
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import uno  # provided by LibreOffice's python3-uno
from com.sun.star.beans import PropertyValue

CONNECT_SECONDS = 30
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE


def properties(**values: object) -> tuple:
    """UNO PropertyValues from keyword arguments."""
    found = []
    for name, value in values.items():
        item = PropertyValue()
        item.Name, item.Value = name, value
        found.append(item)
    return tuple(found)


def start_office(soffice: str, profile_url: str, pipe: str) -> subprocess.Popen:
    """The headless soffice this worker drives (same process group: killed together)."""
    return subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--nofirststartwizard",
            f"-env:UserInstallation={profile_url}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connect(pipe: str, office: subprocess.Popen) -> object:
    """The office's Desktop, once soffice accepts connections on the pipe."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", context
            )
        except Exception:
            if office.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def convert(desktop: object, job: dict) -> None:
    """Open ``job["source"]`` and store it as ``job["target"]`` with the named export filter."""
    load = dict(Hidden=True, ReadOnly=True, MacroExecutionMode=NEVER_EXECUTE)
    load["UpdateDocMode"] = NO_UPDATE
    if job.get("infilter"):
        load["FilterName"] = job["infilter"]
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(job["source"]), "_blank", 0, properties(**load)
    )
    if document is None:
        raise RuntimeError("LibreOffice could not open the file")
    try:
        document.storeToURL(
            uno.systemPathToFileUrl(job["target"]),
            properties(FilterName=job["filter"], Overwrite=True),
        )
    finally:
        document.close(True)


def main() -> int:
    """Serve jobs from standard input until it closes."""
    soffice, profile_url, pipe = sys.argv[1:4]
    office = start_office(soffice, profile_url, pipe)
    desktop = None
    try:
        desktop = connect(pipe, office)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            try:
                convert(desktop, json.loads(line))
                answer = {"ok": True}
            except Exception as exc:  # noqa: BLE001 - every failure is one answer, the loop goes on
                answer = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:500]}
            print(json.dumps(answer), flush=True)
    finally:
        if desktop is not None:
            try:
                desktop.terminate()
            except Exception:  # noqa: BLE001 - the office may be gone already
                pass
        office.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
