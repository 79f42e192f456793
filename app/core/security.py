"""The API key format: generating, hashing and splitting `ocop_<prefix>_<secret>` tokens.

A key reads `ocop_<prefix>_<secret>`: the prefix (public, indexed) finds the row, the secret
(256 random bits) is checked against its SHA-256 in constant time. A slow hash adds nothing for
secrets of that entropy, and a fast one keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_SCHEME = "ocop"
PREFIX_BYTES = 6


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret_hash: str
    token: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        prefix=prefix, secret_hash=hash_secret(secret), token=f"{KEY_SCHEME}_{prefix}_{secret}"
    )


def split_token(token: str) -> tuple[str, str] | None:
    scheme, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    return prefix, secret
