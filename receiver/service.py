"""The running service: store, pipeline, lanes and the HTTP app, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from receiver.app import WEBHOOK, build_app
from receiver.config import Config
from receiver.dispatch import Dispatcher
from receiver.errors import StartupError, StoreUnavailableError
from receiver.feeder import Feeder
from receiver.fixchecks import FixChecks
from receiver.followups import FollowUps
from receiver.interactions.http import InteractionEndpoint
from receiver.interactions.signature import SignatureCheck
from receiver.interactions.work import Interactions
from receiver.metrics import Metrics
from receiver.models import WebhookPayload, notification_identity
from receiver.notes import Notes
from receiver.notifiers import build_notifiers
from receiver.notifiers.templates import Templates
from receiver.pipeline import Pipeline
from receiver.priority import IntakeFirst
from receiver.seams import Enricher, Notifier, WarmingNotifier
from receiver.startup_checks import startup_warnings
from receiver.store import SCHEMA_VERSION, AcceptResult, Delivery, Incoming, Store

__all__ = ["Service", "serve"]

log = structlog.get_logger("flamebot.service")

PRUNE_INTERVAL_SECONDS = 3600.0


class Service:
    """Everything behind the HTTP layer; implements `receiver.app.Intake`."""

    def __init__(
        self,
        config: Config,
        *,
        enricher: Enricher | None = None,
        notifiers: dict[str, Notifier] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.metrics = Metrics()
        self.store = Store.from_settings(config.store, clock=clock)
        # Work left for later (fix checks, incident notes): durable jobs, one runner.
        self.follow_ups = FollowUps(
            self.store.schedules, delivery=config.delivery, clock=clock, sleep=sleep
        )
        self.notes = Notes(self.follow_ups, lambda name: self.notifiers.get(name))
        self.notifiers = (
            notifiers
            if notifiers is not None
            else build_notifiers(
                config.notifiers,
                self.store.conversations.of,
                uploads=self.metrics.upload_outcome,
                sleep=sleep,
                templates=Templates(config.templates, failed=self.metrics.template_failed),
                notes=self.notes,
            )
        )
        if enricher is None:
            from enrichers.analysis import build_enricher

            enricher = build_enricher(config, self.metrics.backend_outcome)
        self.enricher = enricher
        self.fix_checks = self._fix_checks(config, enricher)
        self.pipeline = Pipeline(
            self.store.deliveries,
            self.enricher,
            self.notifiers,
            self.metrics,
            config.delivery,
            workers=config.queue.workers,
            analyses=config.enrichment.concurrency,
            clock=clock,
            sleep=sleep,
        )
        # Replicas (PostgreSQL) take each lane's turn in the store and look for work others
        # stored; one process on its SQLite file has every delivery in its own lanes.
        shared = self.store.shared
        self.intake_first = IntakeFirst()
        self.dispatcher = Dispatcher(
            self.pipeline.deliver,
            claim=self._claim if shared else None,
            finished=(lambda: self.feeder.wake()) if shared else (lambda: None),
            turns=self.intake_first,
        )
        self.feeder = Feeder(
            self.store.deliveries,
            self.dispatcher,
            capacity=max(256, 16 * config.queue.workers),
            lease_seconds=config.store.lease_seconds,
            refresh=self._count_pending if self.store.shared else None,
        )
        self._routes = config.route_table()
        self.interactions, self.slack_endpoint = self._interactions(config, clock)
        self._prune_task: asyncio.Task[None] | None = None
        self._counted_at = 0.0

    async def _claim(self, delivery: Delivery) -> Delivery | None:
        """The lane's turn for `delivery`: its lease, and the delivery as stored now."""
        return await self.store.deliveries.persist(
            lambda: self.store.deliveries.claim_one(delivery.notification_id, delivery.notifier)
        )

    async def _count_pending(self) -> None:
        """Replicas share the store: the pending count comes from it, at most once a second."""
        now = time.monotonic()
        if now - self._counted_at >= 1.0:
            self._counted_at = now
            await self.store.intake.count_pending()

    def _interactions(
        self, config: Config, clock: Callable[[], float]
    ) -> tuple[Interactions, InteractionEndpoint | None]:
        """The work of Slack's button clicks, and their endpoint when the `slack` block is set."""
        alertmanager = None
        if config.alertmanager is not None:
            from enrichers.clients.alertmanager import AlertmanagerClient

            alertmanager = AlertmanagerClient(config.alertmanager)
        interactions = Interactions(
            notifications=self.store.deliveries,
            feedback=self.store.feedback,
            conversations=self.store.conversations.of,
            routes=self._routes,
            notifiers=self.notifiers,
            enricher=self.enricher,
            alertmanager=alertmanager,
            metrics=self.metrics,
            clock=clock,
        )
        secret = config.slack.signing_secret if config.slack is not None else None
        if secret is None:
            return interactions, None
        check = SignatureCheck(secret.get_secret_value(), clock)
        return interactions, InteractionEndpoint(check, interactions, config.server.max_body_bytes)

    def _fix_checks(self, config: Config, enricher: Enricher) -> FixChecks | None:
        """The fix checks after resolves: off with `verify_after: 0`, or with an enricher
        that cannot read profiles (a test's)."""
        from enrichers.analysis import GroupEnricher

        after = config.enrichment.verify_after.total_seconds()
        if after <= 0 or not isinstance(enricher, GroupEnricher):
            return None
        return FixChecks(
            self.follow_ups,
            self.store.deliveries,
            enricher,
            enricher,
            self.notifiers,
            config.route_table(),
            verify_after_seconds=after,
        )

    async def start(self) -> None:
        await self.store.open()
        if self.store.migrated_from not in (None, 0, SCHEMA_VERSION):
            log.info(
                "store_migrated",
                store=self.store.where,
                schema_from=self.store.migrated_from,
                schema_to=SCHEMA_VERSION,
            )
        self.metrics.queue_depth.set_function(lambda: self.store.intake.pending)
        for notifier in self.notifiers.values():
            if isinstance(notifier, WarmingNotifier):
                await notifier.warm()
        self.dispatcher.start()
        self.enricher.start()
        resumed = await self.feeder.feed_once()  # what the last run (or a lost replica) left
        self.follow_ups.start()
        if resumed:
            log.info("deliveries_resumed", count=resumed)
        if self.store.shared:
            self.store.listen(self.feeder.wake)
            self.feeder.start()
        self._prune_task = asyncio.create_task(self._prune_forever())

    async def _prune_forever(self) -> None:
        while True:
            try:
                removed = await self.store.intake.prune()
                if removed:
                    log.info("identities_pruned", count=removed)
            except Exception:
                log.exception("prune_failed")
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS)

    async def accept(self, route: str, payload: WebhookPayload) -> AcceptResult:
        self.intake_first.arrived()
        try:
            return await self._accept(route, payload)
        finally:
            self.intake_first.answered()

    async def _accept(self, route: str, payload: WebhookPayload) -> AcceptResult:
        targets = self._routes[route]
        incoming = Incoming(
            notification_identity(route, payload),
            route,
            payload.group_key,
            payload.model_dump_json(by_alias=True),
        )
        result = await self.store.intake.accept(incoming, targets, self.config.queue.max_pending)
        if not result.duplicate and self.fix_checks is not None:
            await self.fix_checks.accepted(result.id, route, payload, result.received_at)
        if not result.duplicate:
            for name in targets:  # straight to this process's lanes, no claim round
                self.dispatcher.submit(
                    Delivery(
                        result.id, name, route, payload.group_key, 0, False, result.received_at
                    )
                )
        return result

    async def readiness(self) -> dict[str, bool]:
        return {"store": await self.store.check_writable(), "workers": self.dispatcher.running}

    async def stop(self, grace_seconds: float = 0.0) -> bool:
        """Finish in-flight work within the grace period, then persist what is left."""
        drained = await self.dispatcher.wait_idle(grace_seconds)
        if self._prune_task is not None:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
        await self.feeder.stop()
        await self.dispatcher.stop()
        await self.interactions.aclose()  # clicks in progress finish: Slack was told 200
        if self.fix_checks is not None:
            await self.fix_checks.stop()
        await self.follow_ups.stop()
        await self.pipeline.stop()  # before the store closes under a running enrichment
        with contextlib.suppress(StoreUnavailableError):
            await self.store.deliveries.release_held()  # another replica may take over now
        await self.store.close()
        return drained


async def _listen(config: Config, service: Service) -> tuple[web.Application, web.AppRunner]:
    endpoint = service.slack_endpoint
    app = build_app(config, service, interactions=endpoint.handle if endpoint else None)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{config.server.host}:{config.server.port}"
        raise StartupError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return app, runner


async def serve(
    config: Config, *, stop: asyncio.Event | None = None, freeze_startup: bool = False
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), then shut down within the grace period.

    Raises StartupError when the store cannot be opened or the address is taken.
    `freeze_startup` (the `serve` command; not for a process that serves more than once)
    takes everything alive once started out of the cyclic GC's sight: modules, schemas and
    config are never garbage, and a storm's full collections then scan only the work in
    flight, not the whole program (measured: pauses of 80-130 ms down to 5-40 ms).
    """
    service = Service(config)
    try:
        await service.start()
    except StoreUnavailableError as exc:
        raise StartupError(str(exc)) from None
    try:
        app, runner = await _listen(config, service)
    except StartupError:
        await service.stop()
        raise
    addresses = [f"{a[0]}:{a[1]}" for a in runner.addresses if isinstance(a, tuple)]
    log.info(
        "service_started",
        listen=addresses,
        store=service.store.where,
        routes=sorted(service.config.route_table()),
    )
    checks = asyncio.create_task(startup_warnings(config))  # beside the start, never before it
    if freeze_startup:
        gc.collect()
        gc.freeze()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    checks.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await checks
    grace = config.server.shutdown_grace_seconds
    log.info("service_stopping", grace_seconds=grace, busy_lanes=service.dispatcher.busy_lanes)
    app[WEBHOOK].accepting = False
    for site in list(runner.sites):
        await site.stop()  # stop listening: new connections are refused
    drained = await service.stop(grace)
    await runner.cleanup()
    log.info("service_stopped", drained=drained)
