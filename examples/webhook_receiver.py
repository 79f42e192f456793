"""A webhook receiver for trying the API's webhooks locally: it checks every signature.

`python -m http.server` cannot take a POST, and would not check anything if it could. This
script, standard library only, answers 204 to a signed message (and prints it), 401 to a
request whose signature or timestamp does not verify, and 204 again, without printing, to a
message it already had (the same `webhook-id`: a retry, or a resend).

    OCOP_WEBHOOKS_ALLOW_PRIVATE=true make run        # lets the API call http://127.0.0.1
    python examples/webhook_receiver.py --port 9000 --secret whsec_...

Register `http://127.0.0.1:9000/` with `POST /v1/webhooks` (the answer holds the secret),
then `POST /v1/webhooks/{id}/ping`. While a rotated secret is in its overlap, give
`--secret` twice (old and new): either verifies.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

TOLERANCE_S = 300  # older (or newer) timestamps are refused: a captured request is no use later


def verify(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float | None = None
) -> bool:
    """True if `body` was signed with one of `secrets` within the last five minutes.

    `headers` must find names in lower case (Flask's and Django's headers find any case).
    """
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = (headers.get("webhook-signature") or "").split(" ")
    if not msg_id or not timestamp or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_S:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return True
    return False


class Receiver(BaseHTTPRequestHandler):
    secrets: ClassVar[Sequence[str]] = ()
    seen: ClassVar[set[str]] = set()  # webhook-ids already handled; a real receiver stores them

    def do_POST(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self.rfile.read(int(headers.get("content-length") or 0))
        if not verify(self.secrets, headers, body):
            self._answer(401)
            return
        msg_id = headers["webhook-id"]
        if msg_id not in self.seen:
            self.seen.add(msg_id)
            message = json.loads(body)  # only now: the body is known to come from the API
            data = json.dumps(message["data"], ensure_ascii=False)
            print(f"{msg_id} {message['type']} {message['timestamp']} {data}", flush=True)  # noqa: T201
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per message on stdout is enough


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        help="the endpoint's whsec_... secret (twice during a rotation); default: $WEBHOOK_SECRET",
    )
    args = parser.parse_args(argv)
    secrets = args.secret or [os.environ.get("WEBHOOK_SECRET", "")]
    if not all(s.startswith("whsec_") for s in secrets):
        parser.error("give the endpoint's secret (whsec_...) with --secret or $WEBHOOK_SECRET")
    Receiver.secrets = tuple(secrets)
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(f"listening on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)  # noqa: T201
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
