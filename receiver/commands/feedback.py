"""`flamebot feedback [--json]`: the verdicts users said were wrong, from Slack's
"Wrong verdict?" select (`receiver.interactions`), oldest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from receiver.commands.deadletters import missing_store
from receiver.config import Config
from receiver.store import FeedbackStore, Store, VerdictFeedback

__all__ = ["list_feedback"]


def _as_dict(entry: VerdictFeedback) -> dict[str, object]:
    return {
        "id": entry.id,
        "notification_id": entry.notification_id,
        "group_key": entry.group_key,
        "service": entry.service,
        "verdict": entry.verdict,
        "actual": entry.actual,
        "user": entry.user,
        "created_at": datetime.fromtimestamp(entry.created_at, UTC).isoformat(timespec="seconds"),
    }


async def list_feedback(config: Config, *, as_json: bool) -> int:
    if missing_store(config):
        return 1
    store = Store(config.store.path)
    await store.open()
    feedback: FeedbackStore = store.feedback
    try:
        entries = [_as_dict(e) for e in await feedback.entries()]
    finally:
        await store.close()
    if as_json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print("no verdict feedback")
    for e in entries:
        print(
            f"{e['id']:>5}  {e['created_at']}  {e['service'] or '(no service)'}:"
            f" {e['verdict']} -> {e['actual']}  by {e['user']}\n       group {e['group_key']}"
        )
    return 0
