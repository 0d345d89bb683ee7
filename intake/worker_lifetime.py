"""Worker processes that end with the process that started them.

A parsing worker waits for work from its owner, or blocks writing a result to it. An owner
killed outright (``kill -9``, the OOM killer) sends no shutdown, and its workers would wait
forever, keeping their memory and any pipe they inherited (the owner's standard output) open.
``end_with_owner`` runs first in each worker and ends it as soon as the owner is gone. It lives
apart from the pipeline so that a worker, which imports it to run it, loads nothing of the
service beyond the parsers.
"""

from __future__ import annotations

import os
import select
import threading
import time


def end_with_owner(owner: int) -> None:
    """Start a watcher thread that ends this process once process ``owner`` has ended."""

    def watch() -> None:
        try:
            handle = os.pidfd_open(owner)
        except (OSError, AttributeError):  # no pidfd (an old kernel): look once a second
            while _alive(owner):
                time.sleep(1)
        else:
            select.select([handle], [], [])  # readable once the owner has ended
        os._exit(1)

    threading.Thread(target=watch, name="end-with-owner", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
