"""What a click does, after Slack got its acknowledgement: in tasks the service owns.

- **Silence 1h**: a silence in Alertmanager (the `alertmanager` config block) whose
  matchers are the group's common labels, `createdBy` the Slack user, the comment linking
  the message (`chat.getPermalink`); the thread then says so, with the silence's link.
- **Re-run analysis**: the group analysed again now, the result posted in the thread.
- **Wrong verdict?**: the answer stored (`flamebot feedback`), counted in
  `flamebot_verdict_feedback_total{verdict,actual}`, and acknowledged in the thread.

A click names its notification (`receiver.notifiers.slack_actions`); the Slack notifier
that answers is the one whose message was clicked (by its stored channel and ts), else the
first Slack notifier of the notification's route. Failures are said in the thread and
logged; they never reach the HTTP answer, which went out before the work started.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import structlog

from enrichers.clients.alertmanager import AlertmanagerClient
from enrichers.errors import BackendError
from enrichers.result import EnrichmentResult
from receiver.background import Background
from receiver.errors import NotifyError
from receiver.interactions.clicks import Click
from receiver.interactions.silence import confirmation, silence_body, silence_link
from receiver.metrics import Metrics
from receiver.models import WebhookPayload
from receiver.notifiers.slack import SlackNotifier
from receiver.notifiers.slack_actions import FEEDBACK, RERUN, SILENCE
from receiver.notifiers.slack_blocks import render_slack
from receiver.notifiers.slack_sections import escape
from receiver.notifiers.summary import primary_analysis
from receiver.seams import Enricher, Notifier
from receiver.store import ConversationStore, DeliveryStore, FeedbackStore, StoredNotification

__all__ = ["Interactions"]

log = structlog.get_logger("flamebot.interactions")


class Interactions:
    def __init__(
        self,
        *,
        notifications: DeliveryStore,
        feedback: FeedbackStore,
        conversations: Callable[[str], ConversationStore],
        routes: Mapping[str, list[str]],
        notifiers: Mapping[str, Notifier],
        enricher: Enricher,
        alertmanager: AlertmanagerClient | None,
        metrics: Metrics,
        clock: Callable[[], float],
    ) -> None:
        self._notifications = notifications
        self._feedback = feedback
        self._conversations = conversations
        self._routes = routes
        self._slack = {n: s for n, s in notifiers.items() if isinstance(s, SlackNotifier)}
        self._enricher = enricher
        self._alertmanager = alertmanager
        self._metrics = metrics
        self._clock = clock
        self._clicks = Background()

    def submit(self, clicks: list[Click]) -> None:
        """Start the work of each click; returns at once."""
        for click in clicks:
            self._clicks.start(self._run(click))

    async def idle(self) -> None:
        """Wait until every click submitted so far is done."""
        await self._clicks.idle()

    async def aclose(self) -> None:
        """Finish the clicks in progress, then close the Alertmanager client."""
        await self.idle()
        if self._alertmanager is not None:
            await self._alertmanager.aclose()

    async def _run(self, click: Click) -> None:
        bound = log.bind(
            action=click.action, notification_id=click.notification_id, user=click.user_id
        )
        try:
            stored = await self._notifications.notification(click.notification_id)
            slack = None if stored is None else await self._notifier(stored, click)
            if stored is None or slack is None:
                bound.warning("interaction_ignored", reason="no such notification or notifier")
                return
            payload = WebhookPayload.model_validate_json(stored.payload)
            if click.action == SILENCE:
                await self._silence(click, payload, slack)
            elif click.action == RERUN:
                await self._rerun(click, payload, slack)
            elif click.action == FEEDBACK:
                await self._record_feedback(click, stored, slack)
            bound.info("interaction_done", notifier=slack.name)
        except Exception:
            bound.exception("interaction_failed")

    async def _notifier(self, stored: StoredNotification, click: Click) -> SlackNotifier | None:
        routed = [n for n in self._routes.get(stored.route, []) if n in self._slack]
        for name in routed + [n for n in self._slack if n not in routed]:
            raw = await self._conversations(name).get(stored.group_key)
            state = json.loads(raw) if raw else {}
            if state.get("channel") == click.channel and state.get("ts") == click.message_ts:
                return self._slack[name]
        return self._slack[routed[0]] if routed else None

    async def _reply(self, slack: SlackNotifier, click: Click, text: str) -> None:
        await slack.call(
            "chat.postMessage", channel=click.channel, thread_ts=click.message_ts, text=text
        )

    async def _permalink(self, slack: SlackNotifier, click: Click) -> str:
        try:
            data = await slack.call(
                "chat.getPermalink", channel=click.channel, message_ts=click.message_ts
            )
        except NotifyError as exc:
            log.warning("permalink_failed", reason=str(exc))
            data = {}
        return str(data.get("permalink") or f"message {click.message_ts} in {click.channel}")

    async def _silence(self, click: Click, payload: WebhookPayload, slack: SlackNotifier) -> None:
        labels = payload.common_labels
        if self._alertmanager is None:
            why = "silencing needs the `alertmanager` block in flamebot's config"
        elif not labels:
            why = "the group has no common labels to match"
        else:
            permalink = await self._permalink(slack, click)
            now = datetime.fromtimestamp(self._clock(), UTC)
            comment = f"Silenced from Slack by {click.user_name}: {permalink}"
            body = silence_body(labels, now, click.user_name, comment)
            try:
                silence_id = await self._alertmanager.create_silence(body)
            except BackendError as exc:
                why = str(exc)
            else:
                link = silence_link(payload.external_url, silence_id)
                until = datetime.fromisoformat(body["endsAt"])
                await self._reply(
                    slack, click, confirmation(labels, silence_id, link, click.user_id, until)
                )
                return
        await self._reply(slack, click, f":warning: Could not silence: {escape(why)}")

    async def _rerun(self, click: Click, payload: WebhookPayload, slack: SlackNotifier) -> None:
        fresh = await self._enricher.enrich(payload)
        message = render_slack(payload, fresh, change=f"fresh analysis for {click.user_name}")
        text = f"Fresh analysis for {escape(click.user_name)}: {message['text']}"
        await slack.call(
            "chat.postMessage",
            channel=click.channel,
            thread_ts=click.message_ts,
            text=text,
            blocks=message["blocks"],
        )

    async def _record_feedback(
        self, click: Click, stored: StoredNotification, slack: SlackNotifier
    ) -> None:
        assert click.shown is not None  # parse_clicks' promise for FEEDBACK
        assert click.actual is not None
        enrichment = (
            EnrichmentResult.model_validate_json(stored.enrichment) if stored.enrichment else None
        )
        lead = primary_analysis(enrichment) if enrichment is not None else None
        service = lead.service if lead is not None else ""
        await self._feedback.record(
            stored.id,
            stored.group_key,
            service,
            click.shown,
            click.actual,
            click.user_name,
            at=self._clock(),
        )
        self._metrics.verdict_feedback.labels(verdict=click.shown, actual=click.actual).inc()
        about = f"{escape(service)}: " if service else ""
        text = (
            f":memo: Thanks <@{escape(click.user_id)}>, noted: {about}{click.shown}"
            f" should have been {click.actual}."
        )
        await self._reply(slack, click, text)
