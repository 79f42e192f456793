"""The receiver's verification example in README.md works against what the worker sends."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from app.webhooks import signing
from tests.database import PROJECT_ROOT

Verify = Callable[..., bool]


def readme_verify() -> Verify:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(import base64.*?)```", readme, re.S)
    assert match is not None, "README.md lost its verification example"
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)  # the example exactly as a partner would copy it
    verify: Verify = namespace["verify"]
    return verify


def test_readme_example_accepts_a_signed_delivery_and_refuses_tampering() -> None:
    verify = readme_verify()
    secret = signing.generate_secret()
    body = b'{"type":"order.created","timestamp":"2025-11-03T03:00:00Z","data":{}}'
    now = int(time.time())

    fresh = signing.headers((secret,), "msg_1", now, body)
    stale = signing.headers((secret,), "msg_1", now - 3600, body)

    assert verify(secret, fresh, body) is True
    assert verify(secret, fresh, body + b" ") is False
    assert verify(secret, stale, body) is False
    assert verify(signing.generate_secret(), fresh, body) is False


def test_readme_example_accepts_either_secret_while_a_rotation_overlaps() -> None:
    verify = readme_verify()
    old, new = signing.generate_secret(), signing.generate_secret()
    body = b'{"type":"webhook.ping","timestamp":"2025-11-03T03:00:00Z","data":{}}'
    both = signing.headers((new, old), "msg_2", int(time.time()), body)

    assert [verify(new, both, body), verify(old, both, body)] == [True, True]
