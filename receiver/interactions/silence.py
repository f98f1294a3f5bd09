"""The silence a "Silence 1h" click creates, and what the thread says about it, pure.

Alertmanager's API v2 (`POST /api/v2/silences`, a `PostableSilence`): `matchers` (each
`{name, value, isRegex, isEqual}`), `startsAt`, `endsAt`, `createdBy`, `comment`; the answer
is `{"silenceID": "..."}`. The matchers are the group's common labels, each an equality;
the silence's page in the Alertmanager UI is `<externalURL>/#/silences/<id>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from enrichers.links import safe_url
from receiver.notifiers.slack_sections import escape

__all__ = ["SILENCE_FOR", "confirmation", "silence_body", "silence_link"]

SILENCE_FOR = timedelta(hours=1)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def silence_body(
    labels: Mapping[str, str], now: datetime, created_by: str, comment: str
) -> dict[str, Any]:
    """The `PostableSilence` for `labels` from `now` for `SILENCE_FOR`."""
    return {
        "matchers": [
            {"name": name, "value": value, "isRegex": False, "isEqual": True}
            for name, value in sorted(labels.items())
        ],
        "startsAt": _rfc3339(now),
        "endsAt": _rfc3339(now + SILENCE_FOR),
        "createdBy": created_by,
        "comment": comment,
    }


def silence_link(external_url: str, silence_id: str) -> str | None:
    base = safe_url(external_url)
    return None if base is None else f"{base.rstrip('/')}/#/silences/{silence_id}"


def _matchers(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def confirmation(
    labels: Mapping[str, str], silence_id: str, link: str | None, user_id: str, until: datetime
) -> str:
    """The thread reply: who silenced what until when, with the silence's link."""
    name = f"<{link}|silence {escape(silence_id)}>" if link else f"silence {escape(silence_id)}"
    return (
        f":no_bell: <@{escape(user_id)}> silenced this group for 1h"
        f" (until {until.astimezone(UTC):%H:%M} UTC): {name}\n"
        f"Matchers: `{escape(_matchers(labels))}`"
    )
