"""Slack's request signature (v0), checked before anything of a request is believed.

Slack signs each request with the app's signing secret: `X-Slack-Signature` is `v0=` and
the hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`
(docs.slack.dev/authentication/verifying-requests-from-slack; the digest is slack-sdk's
`SignatureVerifier.generate_signature`). A request is refused when a header is missing,
the timestamp is more than 5 minutes from now (either way), the signature does not match,
or the same signature was accepted already within those 5 minutes (a replay: Slack does
not resend interaction payloads). The memory of accepted signatures is this process's.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from slack_sdk.signature import SignatureVerifier

__all__ = ["MAX_AGE_SECONDS", "SignatureCheck"]

MAX_AGE_SECONDS = 5 * 60


class SignatureCheck:
    def __init__(self, signing_secret: str, clock: Callable[[], float]) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock
        self._seen: dict[str, float] = {}  # accepted signature -> its request's timestamp

    def refusal(self, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        """Why the request is refused (`missing`, `stale`, `bad`, `replayed`), or None."""
        if not timestamp or not signature:
            return "missing"
        if not timestamp.isascii() or not timestamp.isdigit():
            return "bad"
        now = self._clock()
        sent = int(timestamp)
        if abs(now - sent) > MAX_AGE_SECONDS:
            return "stale"
        expected = self._verifier.generate_signature(timestamp=timestamp, body=body)
        if expected is None or not hmac.compare_digest(expected, signature):
            return "bad"
        self._forget(now)
        if signature in self._seen:
            return "replayed"
        self._seen[signature] = sent
        return None

    def _forget(self, now: float) -> None:
        # Past the age limit a replay is refused as stale: no need to remember it.
        for old in [s for s, sent in self._seen.items() if now - sent > MAX_AGE_SECONDS]:
            del self._seen[old]
