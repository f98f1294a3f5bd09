"""Slack, with a bot token: one message per Alertmanager group, updated in place.

Lifecycle (PRODUCT.md §4): the first notification of a group posts (`chat.postMessage`);
each later change `chat.update`s that message, by channel ID and ts, and adds a thread
reply saying what changed; a group that fires again after a full resolve starts a new
message. The group -> (channel ID, ts) map lives in the durable store, so it survives
restarts; later lines (the fix check after a resolve) are thread replies under the same
message. Failures are classified only, by the shared table (`base.failure_code`): 429 and
`ratelimited` (honouring Retry-After), 5xx and transport errors are retryable; any other
`ok: false` is not, and a message that can no longer be updated is GONE. With `flamegraph: true`
(the default) a new alert message gets the picture of its flame graph in its thread, in the
background (`receiver.notifiers.slack_upload`). Every post carries metadata naming its
delivery, and a send that may have happened before is looked up first
(`receiver.notifiers.slack_exact`): a crash never makes a second message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import aiohttp
from pydantic import Field, SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from enrichers.clients.backend_http import USER_AGENT
from receiver.errors import FailureCode, NotifyError
from receiver.models import WebhookPayload
from receiver.notifiers.base import NotifierSettingsBase, failure, failure_code, transport_error
from receiver.notifiers.integration import Integration
from receiver.notifiers.slack_blocks import render_slack, render_thread_reply
from receiver.notifiers.slack_exact import (
    CHANNEL_ID_KEY,
    find_channel_id,
    find_sent,
    is_channel_id,
    metadata,
)
from receiver.notifiers.slack_sections import fit
from receiver.notifiers.slack_upload import Uploads
from receiver.notifiers.templates import Templates
from receiver.seams import FollowUp, Notification
from receiver.store import ConversationStore

__all__ = ["INTEGRATION", "SlackNotifier", "SlackNotifierSettings", "describe_change"]
FOLLOW_UP_LINE_MAX = 500  # 20 lines of this stay far below Slack's 40,000-character text


class SlackNotifierSettings(NotifierSettingsBase):
    secrets = required_secrets = ("token",)

    type: Literal["slack"]
    token: SecretStr | None = None
    token_file: Path | None = None
    channel: str
    api_url: str = "https://slack.com/api/"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    flamegraph: bool = True  # upload the alert's flame-graph picture into its thread


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def describe_change(previous: Mapping[str, str], payload: WebhookPayload) -> str:
    """What changed since the last message of the group, e.g. `1 alert resolved`."""
    if payload.status == "resolved":
        return "group resolved"
    now = {a.key: a.status for a in payload.alerts}
    resolved = sum(1 for k, s in now.items() if s == "resolved" and previous.get(k) == "firing")
    added = sum(1 for k, s in now.items() if s == "firing" and k not in previous)
    again = sum(1 for k, s in now.items() if s == "firing" and previous.get(k) == "resolved")
    parts = []
    if resolved:
        parts.append(f"{_plural(resolved, 'alert')} resolved")
    if added:
        parts.append(f"{_plural(added, 'alert')} added")
    if again:
        parts.append(f"{_plural(again, 'alert')} firing again")
    return ", ".join(parts) or "alerts updated"


def _classify(method: str, exc: SlackApiError) -> NotifyError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or f"HTTP {status}")
    headers = getattr(response, "headers", {}) or {}
    code = failure_code(status, error) or FailureCode.REJECTED  # an SDK error is never ok
    return failure(
        f"slack {method}",
        code,
        error if status in (0, 200) else f"HTTP {status}: {error}",
        retry_after=headers.get("Retry-After") or headers.get("retry-after"),
    )


def _ignore(outcome: str) -> None:
    return None


class SlackNotifier:
    def __init__(
        self,
        settings: SlackNotifierSettings,
        conversations: ConversationStore,
        *,
        uploads: Callable[[str], None] = _ignore,
        templates: Templates | None = None,
    ) -> None:
        assert settings.token is not None  # the config validator guarantees it
        self._templates = templates or Templates()
        self.name = settings.name
        self._settings = settings
        self._conversations = conversations
        self._remembered: str | None = None  # the channel ID last saved
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self.uploads = Uploads(self._call, self._http, uploads)

    def _web(self) -> AsyncWebClient:
        if self._client is None:
            # One session for the notifier's life; retries belong to the pipeline, not here.
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds)
            )
            token = self._settings.token.get_secret_value() if self._settings.token else ""
            self._client = AsyncWebClient(
                token=token,
                base_url=self._settings.api_url,
                session=self._session,
                retry_handlers=[],
                user_agent_prefix=USER_AGENT,
            )
        return self._client

    def _http(self) -> aiohttp.ClientSession:
        self._web()
        assert self._session is not None
        return self._session

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        web = self._web()
        methods: dict[str, Callable[..., Awaitable[AsyncSlackResponse]]] = {
            "chat.update": web.chat_update,
            "chat.postMessage": web.chat_postMessage,
            "chat.getPermalink": web.chat_getPermalink,
            "conversations.history": web.conversations_history,
            "conversations.list": web.conversations_list,
            "conversations.replies": web.conversations_replies,
            "files.getUploadURLExternal": web.files_getUploadURLExternal,
            "files.completeUploadExternal": web.files_completeUploadExternal,
        }
        try:
            response = await methods[method](**kwargs)
        except SlackApiError as exc:
            data, status = exc.response.data, int(exc.response.status_code or 0)
            # slack-sdk takes only 200 for success; the shared table takes every 2xx.
            if isinstance(data, dict) and data.get("ok") is True and failure_code(status) is None:
                return dict(data)
            raise _classify(method, exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(f"slack {method}", exc) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API call with the notifier's token (the answers to button clicks)."""
        return await self._call(method, **kwargs)

    async def notify(self, notification: Notification) -> None:
        payload, enrichment = notification.payload, notification.enrichment
        key = payload.group_key
        raw = await self._conversations.get(key)
        state: dict[str, Any] | None = json.loads(raw) if raw else None
        statuses: dict[str, str] = {a.key: a.status for a in payload.alerts}
        if state is None or state.get("resolved"):
            await self._post(payload, notification, statuses)
            return
        change = describe_change(state.get("alerts", {}), payload)
        message = render_slack(
            payload,
            enrichment,
            change=change,
            notification_id=notification.id,
            **self._headlines(notification),
        )
        try:
            await self._call("chat.update", channel=state["channel"], ts=state["ts"], **message)
        except NotifyError as exc:
            if exc.code is FailureCode.GONE:  # it cannot be edited any more: post anew
                await self._post(payload, notification, statuses)
                return
            raise
        reply = render_thread_reply(payload, enrichment, change)
        since, delivery = notification.resumed_since, notification.delivery_id
        sent = since is not None and await find_sent(
            self._call,
            "conversations.replies",
            delivery,
            "reply",
            since,
            channel=state["channel"],
            ts=state["ts"],
        )
        if not sent:
            await self._call(
                "chat.postMessage",
                channel=state["channel"],
                thread_ts=state["ts"],
                metadata=metadata(delivery, "reply"),
                **reply,
            )
        state.update(alerts=statuses, resolved=payload.status == "resolved")
        await self._conversations.set(key, json.dumps(state))

    async def follow_up(self, follow_up: FollowUp) -> None:
        """A thread reply under the group's message (nothing when the group has none)."""
        raw = await self._conversations.get(follow_up.payload.group_key)
        state: dict[str, Any] | None = json.loads(raw) if raw else None
        if not state or not state.get("ts"):
            return
        text = "\n".join(fit(line, FOLLOW_UP_LINE_MAX) for line in follow_up.lines[:20])
        await self._call(
            "chat.postMessage", channel=state["channel"], thread_ts=state["ts"], text=text
        )

    async def _post(
        self, payload: WebhookPayload, notification: Notification, statuses: Mapping[str, str]
    ) -> None:
        message = render_slack(
            payload,
            notification.enrichment,
            notification_id=notification.id,
            **self._headlines(notification),
        )
        data = await self._earlier_post(notification)
        if data is None:
            data = await self._call(
                "chat.postMessage",
                channel=self._settings.channel,
                metadata=metadata(notification.delivery_id, "message"),
                **message,
            )
            await self._remember_channel(str(data.get("channel", "")))
        state = {
            "channel": data.get("channel", self._settings.channel),
            "ts": data.get("ts", ""),
            "alerts": statuses,
            "resolved": payload.status == "resolved",
        }
        await self._conversations.set(payload.group_key, json.dumps(state))
        upload = notification.resumed_since is None or "found" not in data
        if self._settings.flamegraph and payload.status == "firing" and state["ts"] and upload:
            self.uploads.start(notification.enrichment, state["channel"], state["ts"])

    def _headlines(self, notification: Notification) -> dict[str, str | None]:
        """`templates.slack_header` and `slack_text`, rendered (None: the default)."""
        payload, enrichment = notification.payload, notification.enrichment
        return {
            "header": self._templates.render("slack_header", payload, enrichment),
            "text": self._templates.render("slack_text", payload, enrichment),
        }

    async def _channel_id(self) -> str | None:
        if is_channel_id(self._settings.channel):
            return self._settings.channel
        known = await self._conversations.get(CHANNEL_ID_KEY)
        if known is None:
            known = await find_channel_id(self._call, self._settings.channel)
            if known is not None:
                await self._remember_channel(known)
        return known

    async def _remember_channel(self, channel_id: str) -> None:
        if is_channel_id(channel_id) and channel_id != self._remembered:
            await self._conversations.set(CHANNEL_ID_KEY, channel_id)
            self._remembered = channel_id

    async def _earlier_post(self, notification: Notification) -> dict[str, Any] | None:
        """What an earlier send of this delivery posted (channel, ts), if it did."""
        since = notification.resumed_since
        channel = None if since is None else await self._channel_id()
        if since is None or channel is None:
            return None
        ts = await find_sent(
            self._call,
            "conversations.history",
            notification.delivery_id,
            "message",
            since,
            channel=channel,
        )
        return None if ts is None else {"channel": channel, "ts": ts, "found": True}

    async def warm(self) -> None:
        if self._settings.flamegraph:  # no pictures to draw, nothing to warm
            await self.uploads.warm()

    async def aclose(self) -> None:
        await self.uploads.aclose()
        if self._session is not None:
            await self._session.close()


INTEGRATION = Integration(
    SlackNotifierSettings,
    lambda s, c: SlackNotifier(s, c.conversations, uploads=c.uploads, templates=c.templates),
)
