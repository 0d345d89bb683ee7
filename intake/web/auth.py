"""The dashboard's protections: the login password hashes, loopback detection, CSRF checks.

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
from urllib.parse import urlsplit

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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
