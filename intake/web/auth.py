"""The dashboard's protections: the login password hashes, loopback detection, CSRF checks, and
the ``next`` page a login may go on to (``safe_next``).

The password hash is one line, ``scrypt$n$r$p$salt$hash`` (salt and hash in base64), made by
``intake hash-password`` with the standard library's scrypt; ``pbkdf2_sha256$iterations$salt$hash``
is accepted too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import unicodedata
from functools import cache
from urllib.parse import unquote, urlsplit

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` for a ``[[staff]]`` account's ``password_hash``."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (scrypt or pbkdf2_sha256); malformed hashes match
    nothing."""
    try:
        scheme, *fields = stored.strip().split("$")
        if scheme == "scrypt":
            n, r, p, salt, expected = fields
            digest = hashlib.scrypt(
                password.encode("utf-8"),
                salt=_unb64(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                dklen=len(_unb64(expected)),
                maxmem=2**27,
            )
        elif scheme == "pbkdf2_sha256":
            iterations, salt, expected = fields
            digest = hashlib.pbkdf2_hmac(
                "sha256",
                password.encode("utf-8"),
                _unb64(salt),
                int(iterations),
                dklen=len(_unb64(expected)),
            )
        else:
            return False
        return hmac.compare_digest(digest, _unb64(expected))
    except (ValueError, TypeError):
        return False


def check_unknown(password: str) -> None:
    """As slow as checking a real account's password: an unknown name must not answer faster."""
    verify_password(password, _unknown_hash())


@cache
def _unknown_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def hash_problem(stored: str) -> str | None:
    """What is wrong with a stored hash's format (Chinese, for the config error), or None."""
    scheme, *fields = stored.strip().split("$")
    if scheme == "scrypt":
        numbers, encoded = fields[:3], fields[3:]
        if len(fields) != 5:
            return "scrypt 哈希应为 scrypt$n$r$p$salt$hash"
    elif scheme == "pbkdf2_sha256":
        numbers, encoded = fields[:1], fields[1:]
        if len(fields) != 3:
            return "pbkdf2_sha256 哈希应为 pbkdf2_sha256$iterations$salt$hash"
    else:
        return "不是 scrypt 或 pbkdf2_sha256 哈希"
    if not all(n.isdigit() and int(n) > 0 for n in numbers):
        return "哈希参数应为正整数"
    try:
        if not all(_unb64(text) for text in encoded):
            return "盐或哈希为空"
    except ValueError:
        return "盐或哈希不是 base64"
    return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: the only hosts served without a login."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random token for a session's CSRF field."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of the posted CSRF token with the session's."""
    return bool(given and expected) and hmac.compare_digest(given, expected)


def same_origin(origin: str | None, referer: str | None, host_url: str) -> bool:
    """Whether a POST comes from our own pages: its Origin (or, lacking it, Referer) is our host."""
    ours = urlsplit(host_url)
    source = origin if origin and origin != "null" else referer
    if not source:
        return False
    theirs = urlsplit(source)
    return (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower())


def safe_next(target: object) -> str:
    """``target`` if it is a path on this site ("/", "/unit/3?x=1"); anything else is "/".

    Refused: no leading "/", "//" or "/\\" (another host), a scheme or host, a backslash, and any
    control character or white space, also once percent-decoded (``/%09/evil.example/`` would
    become ``//evil.example/`` in a browser; CR/LF would break the Location header).
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return "/"
    decoded, previous = target, None
    for _ in range(5):  # %2525... decoded a few times over: any layer may hide a character
        if decoded == previous:
            break
        previous, decoded = decoded, unquote(decoded, errors="replace")
        if any(_hostile(c) for c in decoded) or "\\" in decoded:
            return "/"
        if decoded.startswith("//") or urlsplit(decoded).scheme or urlsplit(decoded).netloc:
            return "/"
    else:
        return "/"
    return target


def _hostile(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp", "Cs"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
