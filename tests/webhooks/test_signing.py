"""Standard Webhooks signatures: what verifies and what does not."""

from __future__ import annotations

import httpx
import pytest

from app.webhooks import signing

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_signature_matches_the_specifications_example() -> None:
    assert (
        signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_signed_message_verifies() -> None:
    headers = httpx.Headers(signing.headers((SECRET,), MSG_ID, TIMESTAMP, BODY))

    assert signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 10)


def test_a_changed_body_does_not_verify() -> None:
    headers = httpx.Headers(signing.headers((SECRET,), MSG_ID, TIMESTAMP, BODY))

    assert not signing.verify(SECRET, headers, b'{"test": 2432232315}', now=TIMESTAMP)


@pytest.mark.parametrize("age_s", [301, -301, 86400])
def test_a_timestamp_outside_five_minutes_does_not_verify(age_s: int) -> None:
    headers = httpx.Headers(signing.headers((SECRET,), MSG_ID, TIMESTAMP, BODY))

    assert not signing.verify(SECRET, headers, BODY, now=TIMESTAMP + age_s)


def test_another_secret_does_not_verify() -> None:
    headers = httpx.Headers(signing.headers((SECRET,), MSG_ID, TIMESTAMP, BODY))

    assert not signing.verify(signing.generate_secret(), headers, BODY, now=TIMESTAMP)


def test_one_matching_signature_among_several_is_enough() -> None:
    other = signing.sign(signing.generate_secret(), MSG_ID, TIMESTAMP, BODY)
    headers = httpx.Headers(
        {
            "webhook-id": MSG_ID,
            "webhook-timestamp": str(TIMESTAMP),
            "webhook-signature": f"{other} {signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY)}",
        }
    )

    assert signing.verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_generated_secrets_are_prefixed_32_byte_keys() -> None:
    secret = signing.generate_secret()

    assert secret.startswith("whsec_")
    assert len(signing._key(secret)) == 32
    assert secret != signing.generate_secret()


def test_headers_carry_one_signature_per_secret_newest_first() -> None:
    old = signing.generate_secret()

    headers = signing.headers((SECRET, old), MSG_ID, TIMESTAMP, BODY)

    assert headers["webhook-signature"] == " ".join(
        [signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY), signing.sign(old, MSG_ID, TIMESTAMP, BODY)]
    )
