"""Long base64 bodies set aside before the MIME parse, and decoded straight from the raw bytes.

Python's email parser reads a body line by line into str objects and joins them again: a 40 MB
message (one 30 MB attachment) costs it over 250 MB, and the base64 lines of the attachments are
most of its work on any message. ``set_aside`` replaces each long run of base64 lines by a
one-line token before the parse. ``SetAside.payload`` then gives a part whose body is one token
and whose transfer encoding is base64 its bytes decoded in C (binascii) from the raw message;
any other part holding a token (a text body of long unbroken lines, a run that is not proper
base64) gets its original text back first, so that the parser's own decoding sees what it would
have seen.
"""

from __future__ import annotations

import binascii
import re
import secrets
from email.message import Message

# a run of lines of 40 or more base64 characters, matched possessively (a line or a run once read
# is never read again, so the scan stays linear whatever the body holds); a boundary, a header
# or a blank line never matches, so a run lies inside one part's body
_LINES = re.compile(rb"^(?:[A-Za-z0-9+/]{40,}+\r?\n)++", re.M)
_LAST_LINE = re.compile(rb"(?=[A-Za-z0-9+/=])[A-Za-z0-9+/]*+={0,2}\r?\n")  # shorter, maybe padded
MIN_LINES = 64  # a shorter run is left to the email parser


class SetAside:
    """The runs taken out of one raw message, by the token that stands for each."""

    def __init__(self, raw: bytes, nonce: str, runs: dict[str, tuple[int, int, bool]]) -> None:
        self.raw = raw
        self.runs = runs  # token: (start, end, whole base64 quanta) of the run in ``raw``
        self._token = re.compile(rf"<intake-aside-{nonce}-\d+>")

    def payload(self, part: Message) -> bytes | None:
        """The decoded body of a leaf ``part`` that is one base64 run set aside; None for any
        other part, whose body (its tokens replaced by the original text) is then as parsed."""
        body = part.get_payload()
        if not isinstance(body, str) or not self._token.search(body):
            return None
        run = self.runs.get(body.strip())
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
        if run is not None and run[2] and encoding == "base64":
            return binascii.a2b_base64(memoryview(self.raw)[run[0] : run[1]])
        part.set_payload(self._token.sub(self._original, body))
        return None

    def _original(self, match: re.Match[str]) -> str:
        start, end, _whole = self.runs[match.group(0)]
        return self.raw[start:end].decode("ascii")


def set_aside(raw: bytes) -> tuple[bytes, SetAside | None]:
    """``raw`` with each long base64 run replaced by a token line (its own line ending kept, as
    the parser treats the ending before a boundary), and what was set aside; ``raw`` itself and
    None when there is no such run."""
    nonce = secrets.token_hex(8)
    pieces: list[bytes] = []
    runs: dict[str, tuple[int, int, bool]] = {}
    done = 0  # where the text not yet copied begins
    for match in _LINES.finditer(raw):
        start, end = match.span()
        if raw.count(b"\n", start, end) < MIN_LINES:
            continue
        last = _LAST_LINE.match(raw, end)
        if last is not None:
            end = last.end()
        eol = b"\r\n" if raw.endswith(b"\r\n", start, end) else b"\n"
        stop = end - len(eol)
        token = f"<intake-aside-{nonce}-{len(runs)}>"
        characters = stop - start - raw.count(b"\n", start, stop) - raw.count(b"\r", start, stop)
        runs[token] = (start, stop, characters % 4 == 0)
        pieces += [raw[done:start], token.encode("ascii"), eol]
        done = end
    if not runs:
        return raw, None
    pieces.append(raw[done:])
    return b"".join(pieces), SetAside(raw, nonce, runs)
