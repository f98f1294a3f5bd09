"""The Prometheus metrics of PRODUCT.md §4, on a registry of their own (one per service)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhooks = Counter(
            "flamebot_webhooks",
            "Webhook requests by route and HTTP status.",
            ["route", "code"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "flamebot_queue_depth", "Accepted notifications not yet fully delivered.", registry=r
        )
        self.enrichment_seconds = Histogram(
            "flamebot_enrichment_seconds",
            "Time to enrich one alert group.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30),
            registry=r,
        )
        self.analyses = Counter(
            "flamebot_analyses",
            "Services analysed, by verdict and severity (UNKNOWN: flamebot could not see).",
            ["verdict", "severity"],
            registry=r,
        )
        self.backend_requests = Counter(
            "flamebot_backend_requests",
            "Requests to Prometheus and Pyroscope by outcome (ok, error, timeout, cached).",
            ["backend", "outcome"],
            registry=r,
        )
        self.notifications = Counter(
            "flamebot_notifications",
            "Notification attempts by notifier and outcome (ok, retry, failed).",
            ["notifier", "outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "flamebot_dead_letters", "Deliveries moved to the dead-letter table.", registry=r
        )
        self.duplicates = Counter(
            "flamebot_duplicates", "Redelivered webhooks answered as duplicates.", registry=r
        )
        self.uploads = Counter(
            "flamebot_uploads",
            "Flame-graph pictures uploaded to Slack threads by outcome (ok, failed, skipped).",
            ["outcome"],
            registry=r,
        )
        self.verdict_feedback = Counter(
            "flamebot_verdict_feedback",
            "Verdicts users said were wrong in Slack, by the verdict shown and the actual one.",
            ["verdict", "actual"],
            registry=r,
        )
        self.template_failures = Counter(
            "flamebot_template_failures",
            "Renderings of a `templates:` entry that failed (the default rendering was sent).",
            ["template"],
            registry=r,
        )
        self.resent = Counter(
            "flamebot_resent_after_crash",
            "Deliveries sent again because a crash fell between their send and its record.",
            ["notifier"],
            registry=r,
        )

    def backend_outcome(self, backend: str, outcome: str) -> None:
        self.backend_requests.labels(backend=backend, outcome=outcome).inc()

    def upload_outcome(self, outcome: str) -> None:
        self.uploads.labels(outcome=outcome).inc()

    def template_failed(self, template: str) -> None:
        self.template_failures.labels(template=template).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
