"""Human-readable unique references: a prefix, the local date and 8 random base32 characters
(40 bits), e.g. `LS251103-7K3F9QXA` (an order) or `LB251108-M2X9C4TD` (a booking)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_reference(prefix: str, now: datetime, zone: ZoneInfo) -> str:
    """`prefix` + the local date of `now` + a dash and 8 random base32 characters."""
    # 40 random bits read at once (one system call, not one per character), 5 per character.
    bits = int.from_bytes(secrets.token_bytes(5))
    suffix = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"{prefix}{now.astimezone(zone):%y%m%d}-{suffix}"
