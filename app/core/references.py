"""Human-readable unique references: a prefix, the local date and 8 random base32 characters
(40 bits), e.g. `LS251103-7K3F9QXA` (an order) or `LB251108-M2X9C4TD` (a booking)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_reference(prefix: str, now: datetime, zone: ZoneInfo) -> str:
    """`prefix` + the local date of `now` + a dash and 8 random base32 characters."""
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}{now.astimezone(zone):%y%m%d}-{suffix}"
