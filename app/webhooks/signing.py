"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is `<webhook-id>.<webhook-timestamp>.<body>`; the signature header is
`v1,<base64 HMAC-SHA256>` under the endpoint's secret, written `whsec_<base64 key>`, or several
of them separated by spaces while a rotated secret is still in its overlap. A receiver also
refuses timestamps too far from its own clock, so a captured request cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 5 * 60


def message_id(outbox_id: uuid.UUID) -> str:
    """An outbox message's `webhook-id`: the same on every retry and resend of it, so
    receivers can drop repeats."""
    return f"msg_{outbox_id.hex}"


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for this message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: tuple[str, ...], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers, with a signature under each secret (newest first).

    A tuple, not any sequence: a lone string would be signed character by character."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets),
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance_s: int = TOLERANCE_S,
) -> bool:
    """True if the body was signed with `secret` and its timestamp is within the tolerance.

    `request_headers` must look names up case-insensitively (as httpx, Starlette, Flask and
    Django headers do). The header may carry several space-separated signatures (during a
    secret rotation); one match is enough.
    """
    msg_id = request_headers.get("webhook-id")
    timestamp = request_headers.get("webhook-timestamp")
    signatures = request_headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, msg_id, int(timestamp), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures.split(" "))
