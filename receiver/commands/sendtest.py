"""`flamebot send-test URL`: post a sample Alertmanager webhook (a deployment smoke test)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from receiver import payloads

__all__ = ["sample_payload", "send_test"]


def sample_payload(now: datetime | None = None) -> dict[str, Any]:
    """A v4 webhook shaped like the reference HighCpuUsage alert, new each time it is sent."""
    now = now or datetime.now(UTC)
    labels = {
        "alertname": "FlamebotTest",
        "instance": "payment-service:9404",
        "job": "jvm",
        "severity": "info",
    }
    starts = payloads.rfc3339(now)
    sample = payloads.alert(
        labels,
        now,
        annotations={"summary": "flamebot send-test: a sample alert, safe to ignore"},
        fingerprint=hashlib.sha256(starts.encode()).hexdigest()[:16],
    )
    # Its own group each time (the send time in the key), so it is never a duplicate.
    key = f'{{}}:{{alertname="FlamebotTest", sent="{starts}"}}'
    return payloads.group([sample], ("alertname",), group_key=key)


def send_test(url: str, *, token: str | None, basic: str | None, timeout: float) -> int:
    headers = {"Content-Type": "application/json", "User-Agent": "flamebot-send-test"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    try:
        response = httpx.post(
            url, content=json.dumps(sample_payload()), headers=headers, timeout=timeout
        )
    except httpx.HTTPError as exc:
        print(f"send-test: could not reach {url}: {type(exc).__name__}")
        return 1
    print(f"HTTP {response.status_code} {response.text.strip()}")
    return 0 if response.status_code == 200 else 1
