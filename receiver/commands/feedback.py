"""`flamebot feedback [--json]`: the verdicts users said were wrong, from Slack's
"Wrong verdict?" select (`receiver.interactions`), oldest first."""

from __future__ import annotations

from receiver.commands.deadletters import missing_store, print_rows
from receiver.config import Config
from receiver.store import FeedbackStore, Store, VerdictFeedback

__all__ = ["list_feedback"]


async def _entries(store: Store) -> list[VerdictFeedback]:
    feedback: FeedbackStore = store.feedback
    return await feedback.entries()


def _line(e: dict[str, object]) -> str:
    return (
        f"{e['id']:>5}  {e['created_at']}  {e['service'] or '(no service)'}:"
        f" {e['verdict']} -> {e['actual']}  by {e['user']}\n       group {e['group_key']}"
    )


async def list_feedback(config: Config, *, as_json: bool) -> int:
    if missing_store(config):
        return 1

    return await print_rows(
        Store.from_settings(config.store),
        _entries,
        as_json=as_json,
        empty="no verdict feedback",
        line=_line,
    )
