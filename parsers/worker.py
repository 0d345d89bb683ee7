"""A parsing worker process: ``python -m parsers.worker``, examining what its owner sends.

The owner (``intake.pipeline.pool``) writes requests to the worker's standard input and reads
each reply from its standard output, one at a time. A frame is an 8-byte length and a pickle; a
request may be followed by one file's bytes as a frame of their own, so a large file is never
copied into a pickle on either side. The worker keeps the two pipes for itself and points file
descriptors 0 and 1 elsewhere, so a native library that prints cannot corrupt a reply. It ends at
the end of its input: when the owner closes it, and when the owner dies, however it dies. It
ignores SIGINT (a Ctrl-C reaches the whole process group): the owner finishes the message in
hand with it, then closes its input.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
from typing import Any, BinaryIO

from .entry import examine_remotely, keep_freed_memory, load_parsers, release_free_memory

FUNCTIONS = {"examine": examine_remotely, "load": load_parsers}
"""What an owner may ask a worker to run, by name."""

IDLE_BEFORE_RELEASE = 0.05
"""Seconds without a next request after which a worker hands its free memory back: a busy
worker gets its next file sooner (its owner sends one as soon as it has read the reply)."""

_LENGTH = struct.Struct("!Q")


def write_frame(stream: BinaryIO, data: bytes) -> None:
    """One frame: the length of ``data``, then ``data`` (not flushed)."""
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's bytes; None at the end of the stream. A frame cut short raises
    EOFError."""
    header = stream.read(_LENGTH.size)
    if not header:
        return None
    if len(header) < _LENGTH.size:
        raise EOFError("frame header cut short")
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError("frame cut short")
    return data


def request(name: str, args: tuple, kwargs: dict[str, Any]) -> tuple[bytes, bytes | None]:
    """The frames asking a worker to run ``FUNCTIONS[name](*args, **kwargs)``: the pickled call,
    and the first ``bytes`` argument on its own (None when there is none)."""
    blob_at = next((i for i, arg in enumerate(args) if isinstance(arg, bytes)), None)
    if blob_at is None:
        return pickle.dumps((name, args, kwargs, None), pickle.HIGHEST_PROTOCOL), None
    rest = args[:blob_at] + (None,) + args[blob_at + 1 :]
    call = pickle.dumps((name, rest, kwargs, blob_at), pickle.HIGHEST_PROTOCOL)
    return call, args[blob_at]


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    while (frame := read_frame(requests)) is not None:
        name, args, kwargs, blob_at = pickle.loads(frame)
        if blob_at is not None:
            blob = read_frame(requests)
            if blob is None:
                raise EOFError("request without its file")
            args = args[:blob_at] + (blob,) + args[blob_at + 1 :]
            del blob
        try:
            reply = (True, FUNCTIONS[name](*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the owner raises it where the result is asked
            reply = (False, exc)
        del args
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
            data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        del reply
        write_frame(replies, data)
        replies.flush()
        del data
        # one request at a time: nothing of the next one can be in the input buffer yet
        if not select.select([requests], [], [], IDLE_BEFORE_RELEASE)[0]:
            release_free_memory()


def main() -> None:
    """Serve requests from standard input until it ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.dup2(2, 1)  # what a library prints goes to the log, not into a reply
    os.close(quiet)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process's life
    sys.stdout = sys.stderr
    try:
        _serve(requests, replies)
    except (BrokenPipeError, EOFError):  # the owner went away
        pass


if __name__ == "__main__":
    main()
