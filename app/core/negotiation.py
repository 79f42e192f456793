"""Proactive content negotiation (RFC 9110 section 12.5.1) over `Accept`, with q-values.

`python-mimeparse` reads the header: media ranges, wildcards (`*/*`, `text/*`), the most
specific range deciding a type's quality, and `q=0` as "not this one". An operation offers its
media types best first; the client's preference wins, the operation's order breaks ties. No
`Accept` (or an empty one) accepts anything. When nothing offered is acceptable (or the header
cannot be read), the answer is 406, listing what is offered.
"""

from __future__ import annotations

from collections.abc import Sequence

import mimeparse

from app.core.errors import NotAcceptable


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The media type of `offered` (best first) to answer a request with this `Accept`."""
    if accept is None or not accept.strip():
        return offered[0]
    try:
        # Media types are case-insensitive (RFC 9110 section 8.3.1); mimeparse compares them
        # as given, and breaks ties in favour of the last type it is given.
        chosen = str(mimeparse.best_match(list(reversed(offered)), accept.lower()))
    except ValueError:  # mimeparse.MimeTypeParseException: not a media range
        chosen = ""
    if not chosen:
        raise NotAcceptable(
            f"No media type this operation answers with is acceptable (`Accept`); it offers "
            f"{', '.join(offered)}.",
            available=list(offered),
        )
    return chosen
