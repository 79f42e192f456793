"""A send connects to an address of the lookup that was checked, never to a second lookup
(DNS rebinding), keeping the name for `Host` and TLS."""

from __future__ import annotations

import ipaddress
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
import trustme
from fastapi import FastAPI

from app.core.config import Settings
from app.webhooks import targets
from app.webhooks.worker import Claimed, DeliveryWorker, Outcome
from tests.webhooks.receiver import Receiver, running

pytestmark = pytest.mark.anyio


class Resolver:
    """Answers each lookup of a name from a script (the last answer repeats), and counts."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ipaddress.ip_address(a) for a in answer] for answer in answers]
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[targets.Address]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


def claimed(url: str) -> Claimed:
    return Claimed(
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), url, ("whsec_" + "A" * 32,), b'{"type":"test"}'
    )


def test_a_pinned_request_keeps_the_name_for_host_and_tls() -> None:
    url, headers, extensions = targets.pinned_request(
        "https://hooks.partner.example:8443/ocop?x=1", ipaddress.ip_address("93.184.215.14")
    )

    assert str(url) == "https://93.184.215.14:8443/ocop?x=1"
    assert headers == {"host": "hooks.partner.example:8443"}
    assert extensions == {"sni_hostname": "hooks.partner.example"}


def test_a_pinned_request_to_ipv6_and_idna_names() -> None:
    url, headers, extensions = targets.pinned_request(
        "https://bücher.example/hooks", ipaddress.ip_address("2606:4700::1111")
    )

    assert str(url) == "https://[2606:4700::1111]/hooks"
    assert headers == {"host": "xn--bcher-kva.example"}
    assert extensions == {"sni_hostname": "xn--bcher-kva.example"}


@pytest.mark.parametrize("url", ["https://93.184.215.14/hooks", "http://shop.example/hooks"])
def test_no_server_name_for_address_literals_or_plain_http(url: str) -> None:
    address = ipaddress.ip_address("93.184.215.14")

    assert targets.pinned_request(url, address)[2] == {}


async def send_strictly(
    app: FastAPI, settings: Settings, *, fail: bool = False
) -> tuple[Outcome, list[httpx.Request]]:
    """Send one delivery to https://hooks.partner.example/ocop with production's target rules
    through a transport that records each request and answers 204 (or, with `fail`, times
    out once the request is sent)."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if fail:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(204)

    strict = settings.model_copy(update={"webhooks_allow_private": False})
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    worker = DeliveryWorker(app.state.sessionmaker, strict, http=http)
    try:
        return await worker.send(claimed("https://hooks.partner.example/ocop")), sent
    finally:
        await worker.aclose()


async def test_a_name_that_rebinds_after_the_check_is_not_followed(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Public to the check, loopback to any later lookup: the request must go to the public one.
    resolver = Resolver(["8.8.8.8"], ["127.0.0.1"])
    monkeypatch.setattr(targets, "resolve", resolver)

    outcome, sent = await send_strictly(app, settings)

    assert outcome.ok
    assert resolver.lookups == ["hooks.partner.example"]
    (request,) = sent
    assert request.url.host == "8.8.8.8"
    assert request.headers["host"] == "hooks.partner.example"
    assert request.extensions["sni_hostname"] == "hooks.partner.example"


async def test_a_name_that_resolves_inside_is_refused_at_send_time(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets, "resolve", Resolver(["8.8.8.8", "169.254.169.254"]))

    outcome, sent = await send_strictly(app, settings)

    assert not outcome.ok
    assert "169.254.169.254" in (outcome.error or "")
    assert sent == []


async def test_the_next_address_is_tried_only_when_no_connection_opens(
    app: FastAPI, settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on 127.0.0.2, so that connection is refused before anything is sent.
    monkeypatch.setattr(targets, "resolve", Resolver(["127.0.0.2", "127.0.0.1"]))
    port = httpx.URL(receiver.url).port
    worker = DeliveryWorker(app.state.sessionmaker, settings)
    try:
        outcome = await worker.send(claimed(f"http://receiver.test:{port}/hooks"))
    finally:
        await worker.aclose()

    assert outcome.ok, outcome.error
    (got,) = receiver.received
    assert got.headers["host"] == f"receiver.test:{port}"


async def test_a_request_that_fails_once_sent_is_not_sent_to_another_address(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets, "resolve", Resolver(["8.8.8.8", "8.8.4.4"]))

    outcome, sent = await send_strictly(app, settings, fail=True)

    assert not outcome.ok
    assert (outcome.error or "").startswith("ReadTimeout")
    assert [r.url.host for r in sent] == ["8.8.8.8"]


async def test_tls_is_verified_against_the_name_though_the_address_is_pinned(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The receiver's certificate names receiver.test only; the connection goes to 127.0.0.1.
    authority = trustme.CA()
    pem = tmp_path / "receiver.pem"
    authority.issue_cert("receiver.test").private_key_and_cert_chain_pem.write_to_path(str(pem))
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    monkeypatch.setattr(targets, "resolve", Resolver(["127.0.0.1"]))

    async with running(Receiver(), tls=pem) as receiver:
        port = httpx.URL(receiver.url).port
        worker = DeliveryWorker(
            app.state.sessionmaker, settings, http=httpx.AsyncClient(verify=trusting)
        )
        try:
            named = await worker.send(claimed(f"https://receiver.test:{port}/hooks"))
            misnamed = await worker.send(claimed(f"https://other.test:{port}/hooks"))
        finally:
            await worker.aclose()

    assert named.ok, named.error
    assert "CERTIFICATE_VERIFY_FAILED" in (misnamed.error or "")
    (got,) = receiver.received
    assert got.headers["host"] == f"receiver.test:{port}"
