"""Target checks below the schema: IPv6 forms, names, and the development switch."""

from __future__ import annotations

import pytest

from app.webhooks import targets

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://[ff02::1]/",
        "https://[::]/",
        "https://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "https://localhost/",
        "http://example.com/",
        "https://user:secret@example.com/",
    ],
)
async def test_refused(url: str) -> None:
    with pytest.raises(targets.UnsafeTarget):
        await targets.check(url, allow_private=False)


@pytest.mark.parametrize("url", ["https://93.184.215.14/", "https://[2606:4700::1111]/x"])
async def test_public_literals_are_allowed(url: str) -> None:
    await targets.check(url, allow_private=False)


async def test_the_development_switch_allows_http_loopback() -> None:
    await targets.check("http://127.0.0.1:8080/hooks", allow_private=True)


async def test_other_schemes_are_refused_even_in_development() -> None:
    with pytest.raises(targets.UnsafeTarget, match="https"):
        await targets.check("file:///etc/passwd", allow_private=True)
