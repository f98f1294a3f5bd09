"""Conversations: each notifier's state per alert group (e.g. the Slack message of a group).

A notifier sees only its own key-value view (`ConversationStore`: get and set a group's
state), after Alertmanager's notification log. It saves its conversation right after the
send: that write waits out a locked or full store instead of failing, since losing it would
turn the next update of the group into a second message. A save is one upsert
(`INSERT ... ON CONFLICT DO UPDATE`): atomic, whichever replica makes it. Conversations of
groups quiet for the identity TTL are pruned with them (`IntakeLog.prune`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from receiver.store.db import Db
from receiver.store.sqlite import Lane, patiently

__all__ = ["Conversations", "NotifierConversations"]


class Conversations:
    def __init__(self, lane: Lane, is_open: Callable[[], bool]) -> None:
        self._lane = lane
        self._is_open = is_open

    def of(self, notifier: str) -> NotifierConversations:
        """The view one notifier gets: its own groups' states, nobody else's."""
        return NotifierConversations(self, notifier)

    async def get(self, notifier: str, group_key: str) -> str | None:
        def read(db: Db) -> str | None:
            row = db.execute(
                "SELECT state FROM conversations WHERE notifier = ? AND group_key = ?",
                (notifier, group_key),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._lane.run(read)

    async def set(self, notifier: str, group_key: str, state: str | None) -> None:
        """Record (or, with None, forget) a group's state; waits out a locked or full store."""

        def save(db: Db) -> None:
            if state is None:
                db.execute(
                    "DELETE FROM conversations WHERE notifier = ? AND group_key = ?",
                    (notifier, group_key),
                )
            else:
                db.execute(
                    "INSERT INTO conversations (notifier, group_key, state, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (notifier, group_key)"
                    " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                    (notifier, group_key, state, time.time()),
                )

        await patiently(lambda: self._lane.write(save), is_open=self._is_open)


class NotifierConversations:
    """`receiver.store.ConversationStore` for one notifier."""

    def __init__(self, conversations: Conversations, notifier: str) -> None:
        self._conversations = conversations
        self.notifier = notifier

    async def get(self, group_key: str) -> str | None:
        """The group's state as last saved, or None."""
        return await self._conversations.get(self.notifier, group_key)

    async def set(self, group_key: str, state: str | None) -> None:
        """Save the group's state (None forgets it)."""
        await self._conversations.set(self.notifier, group_key, state)
