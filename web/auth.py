"""Access to the workspace: who may bind where, password hashes (scrypt), sessions and CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets

from rezonans.errors import UserError

LOCAL_USER = "local"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class AccessError(UserError):
    """The server may not start as asked (a public address without users, a bad password hash)."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'; every other address is reachable from elsewhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, users: dict[str, str]) -> None:
    """Refuse a non-loopback address when no users are configured (anyone on the network could read and edit)."""
    for name, hashed in users.items():
        if not hashed.startswith("scrypt$"):
            raise AccessError(
                f"web_users: the password of {name!r} is not a hash: make one with `rezonans serve --hash-password`"
            )
    if not is_loopback(host) and not users:
        raise AccessError(
            f"refusing to serve on {host}, which other machines can reach, without users: add web_users "
            "(name: hash from `rezonans serve --hash-password`) to the config, or bind to 127.0.0.1"
        )


def hash_password(password: str, salt: bytes | None = None) -> str:
    """An scrypt hash string `scrypt$N$r$p$salt$hash` (base64) to put in the config's web_users."""
    if not password:
        raise AccessError("the password is empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    enc = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${enc(salt).decode()}${enc(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches the scrypt hash (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = hashed.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def new_token() -> str:
    """A random CSRF token for one session."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of CSRF tokens; a missing one never matches."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))
