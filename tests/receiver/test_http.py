"""The webhook's HTTP contract: answers, error bodies, the order of the checks."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from receiver.config import Config
from tests.conftest import load_payload, make_config, payload_files
from tests.support.waiting import SETTLE_SECONDS

REFERENCE = "reference-highcpuusage.json"


def with_auth(tmp_path: Path, **extra: Any) -> Config:
    auth = {"bearer_token": "s3cret-token", "basic": {"username": "am", "password": "pw-123"}}
    return make_config(tmp_path, server={"auth": auth, **extra})


@pytest.mark.parametrize("name", payload_files())
async def test_every_captured_payload_is_accepted(harness_factory: Any, name: str) -> None:
    """Each real Alertmanager capture (incl. the reference HighCpuUsage) is answered 200."""
    h = await harness_factory()
    status, body = await h.post(load_payload(name))
    assert (status, body) == (200, {"status": "accepted", "id": 1})


async def test_captured_payloads_cover_the_reference_alert() -> None:
    """The reference HighCpuUsage capture is among the payloads posted above."""
    assert REFERENCE in payload_files()
    assert len(payload_files()) == 10


async def test_redelivery_and_ha_peer_are_duplicates(harness_factory: Any) -> None:
    """Same webhook twice, then from an HA peer: one delivery, two duplicates, original id."""
    h = await harness_factory()
    first = load_payload(REFERENCE)
    peer = copy.deepcopy(first)
    peer["externalURL"] = "http://alertmanager-1.example:9093"
    assert await h.post(first) == (200, {"status": "accepted", "id": 1})
    assert await h.post(first) == (200, {"status": "duplicate", "id": 1})
    assert await h.post(peer) == (200, {"status": "duplicate", "id": 1})
    await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [n.id for n in h.notifiers["a"].delivered] == [1]
    metrics = (await (await h.client.get("/metrics")).text()).splitlines()
    assert "flamebot_duplicates_total 2.0" in metrics


async def test_resolve_is_a_new_notification_of_the_same_group(harness_factory: Any) -> None:
    """The resolved form of a group is new work (another identity), delivered after the firing."""
    h = await harness_factory()
    assert await h.post(load_payload(REFERENCE)) == (200, {"status": "accepted", "id": 1})
    resolved = load_payload("reference-highcpuusage-resolved.json")
    assert await h.post(resolved) == (200, {"status": "accepted", "id": 2})
    await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [(n.id, n.payload.status) for n in h.notifiers["a"].delivered] == [
        (1, "firing"),
        (2, "resolved"),
    ]


async def test_named_route_reaches_its_notifiers(harness_factory: Any) -> None:
    """`/webhook/both` delivers to notifiers a and b; `/webhook` only to a."""
    h = await harness_factory()
    assert await h.post(load_payload("firing.json"), "/webhook/both") == (
        200,
        {"status": "accepted", "id": 1},
    )
    await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert [n.route for n in h.notifiers["a"].delivered] == ["both"]
    assert [n.route for n in h.notifiers["b"].delivered] == ["both"]


async def test_bearer_and_basic_auth_are_both_accepted(
    harness_factory: Any, tmp_path: Path
) -> None:
    """With auth configured, a right bearer token or right basic credentials are let in."""
    h = await harness_factory(with_auth(tmp_path))
    basic = "Basic " + base64.b64encode(b"am:pw-123").decode()
    bearer = {"Authorization": "Bearer s3cret-token", "Content-Type": "application/json"}
    assert await h.post(load_payload("firing.json"), headers=bearer) == (
        200,
        {"status": "accepted", "id": 1},
    )
    assert await h.post(
        load_payload("resolved.json"),
        headers={"Authorization": basic, "Content-Type": "application/json"},
    ) == (200, {"status": "accepted", "id": 2})


UNAUTHORIZED = {"error": "unauthorized", "detail": "missing or wrong credentials"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong",
        "Bearer s3cret-token-and-more",
        "Basic " + base64.b64encode(b"am:wrong").decode(),
        "Basic not-base64!",
        "Token s3cret-token",
        "s3cret-token",
    ],
)
async def test_wrong_credentials_get_401(harness_factory: Any, tmp_path: Path, header: Any) -> None:
    """Missing or wrong credentials are answered 401 with the JSON error body."""
    h = await harness_factory(with_auth(tmp_path))
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    response = await h.client.post("/webhook", data="{}", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="flamebot"'
    assert await response.json() == UNAUTHORIZED


async def test_probes_and_metrics_need_no_auth(harness_factory: Any, tmp_path: Path) -> None:
    """/healthz, /readyz and /metrics stay open when webhook auth is on."""
    h = await harness_factory(with_auth(tmp_path))
    health = await h.client.get("/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok"})
    ready = await h.client.get("/readyz")
    assert (ready.status, await ready.json()) == (
        200,
        {"status": "ready", "checks": {"store": True, "workers": True}},
    )
    metrics = await h.client.get("/metrics")
    assert metrics.status == 200
    assert metrics.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


async def _post_raw(h: Any, path: str, headers: dict[str, str], data: Any) -> tuple[int, Any]:
    response = await h.client.post(path, data=data, headers=headers)
    return response.status, await response.json()


async def test_check_order(harness_factory: Any, tmp_path: Path) -> None:
    """auth (401) < route (404) < content type (415) < size (413) < JSON (400) < schema (400)."""
    # Each request breaks the check it is about *and* every later one, so its answer shows
    # that check runs first.
    h = await harness_factory(with_auth(tmp_path, max_body_bytes=1000))
    good = "Bearer s3cret-token"
    big_bad_json = "{" * 2000
    cases = [
        ({}, "/webhook/nope", "text/plain", big_bad_json, 401, UNAUTHORIZED),
        (
            {"Authorization": good},
            "/webhook/nope",
            "text/plain",
            big_bad_json,
            404,
            {"error": "unknown_route", "detail": "no route named 'nope'"},
        ),
        (
            {"Authorization": good},
            "/webhook",
            "text/plain",
            big_bad_json,
            415,
            {"error": "unsupported_media_type", "detail": "send application/json"},
        ),
        (
            {"Authorization": good},
            "/webhook",
            "application/json",
            big_bad_json,
            413,
            {"error": "payload_too_large", "detail": "the limit is 1000 bytes"},
        ),
        (
            {"Authorization": good},
            "/webhook",
            "application/json",
            '{"status": ',
            400,
            {"error": "invalid_json", "detail": "Expecting value: line 1 column 12 (char 11)"},
        ),
        (
            {"Authorization": good},
            "/webhook",
            "application/json",
            "[]",
            400,
            {
                "error": "invalid_payload",
                "detail": [
                    {
                        "type": "model_type",
                        "loc": [],
                        "msg": "Input should be a valid dictionary or instance of WebhookPayload",
                        "ctx": {"class_name": "WebhookPayload"},
                    }
                ],
            },
        ),
    ]
    for extra, path, ctype, data, status, body in cases:
        headers = {"Content-Type": ctype, **extra}
        assert await _post_raw(h, path, headers, data) == (status, body), (status, path)
    assert len(h.notifiers["a"].attempts) == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", None],
)
async def test_json_content_types_are_accepted(harness_factory: Any, content_type: Any) -> None:
    """application/json with or without parameters, or no Content-Type at all, is accepted."""
    h = await harness_factory()
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await h.client.post(
        "/webhook",
        data=json.dumps(load_payload("firing.json")).encode(),
        headers=headers,
        skip_auto_headers=["Content-Type"],
    )
    assert (response.status, await response.json()) == (200, {"status": "accepted", "id": 1})


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
async def test_other_content_types_get_415(harness_factory: Any, content_type: str) -> None:
    """Anything but JSON is refused with 415 and the JSON error body."""
    h = await harness_factory()
    status, body = await _post_raw(
        h, "/webhook", {"Content-Type": content_type}, json.dumps(load_payload("firing.json"))
    )
    assert (status, body) == (
        415,
        {"error": "unsupported_media_type", "detail": "send application/json"},
    )


async def test_body_over_the_limit_without_content_length(harness_factory: Any) -> None:
    """A chunked body longer than max_body_bytes is cut off with 413, not read whole."""
    h = await harness_factory(sections={"server": {"max_body_bytes": 100}})

    async def chunks() -> Any:
        for _ in range(50):
            yield b"x" * 10

    response = await h.client.post(
        "/webhook", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (response.status, await response.json()) == (
        413,
        {"error": "payload_too_large", "detail": "the limit is 100 bytes"},
    )


@pytest.mark.parametrize(
    ("mutate", "detail"),
    [
        (
            lambda p: p["alerts"][0]["labels"].update(job=5),
            [
                {
                    "type": "string_type",
                    "loc": ["alerts", 0, "labels", "job"],
                    "msg": "Input should be a valid string",
                }
            ],
        ),
        (
            lambda p: p.update(truncatedAlerts="2"),
            [
                {
                    "type": "int_type",
                    "loc": ["truncatedAlerts"],
                    "msg": "Input should be a valid integer",
                }
            ],
        ),
        (
            lambda p: p["alerts"][0].update(status="pending"),
            [
                {
                    "type": "literal_error",
                    "loc": ["alerts", 0, "status"],
                    "msg": "Input should be 'firing' or 'resolved'",
                    "ctx": {"expected": "'firing' or 'resolved'"},
                }
            ],
        ),
        (
            lambda p: p["alerts"][0].update(startsAt=1764091532),
            [
                {
                    "type": "value_error",
                    "loc": ["alerts", 0, "startsAt"],
                    "msg": "Value error, expected an RFC 3339 time string",
                    "ctx": {"error": "expected an RFC 3339 time string"},
                }
            ],
        ),
        (
            lambda p: p["alerts"][0].update(startsAt="2026-11-25T17:25:32"),
            [
                {
                    "type": "timezone_aware",
                    "loc": ["alerts", 0, "startsAt"],
                    "msg": "Input should have timezone info",
                }
            ],
        ),
        (
            lambda p: p.update(alerts=[]),
            [
                {
                    "type": "too_short",
                    "loc": ["alerts"],
                    "msg": "List should have at least 1 item after validation, not 0",
                    "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0},
                }
            ],
        ),
        (
            lambda p: p.pop("groupKey"),
            [{"type": "missing", "loc": ["groupKey"], "msg": "Field required"}],
        ),
    ],
)
async def test_schema_errors_get_400_with_pydantic_errors(
    harness_factory: Any, mutate: Any, detail: list[Any]
) -> None:
    """A payload of the wrong shape is answered 400 invalid_payload with pydantic's errors."""
    h = await harness_factory()
    payload = load_payload(REFERENCE)
    mutate(payload)
    assert await h.post(payload) == (400, {"error": "invalid_payload", "detail": detail})
    assert h.service.store.intake.pending == 0


async def test_extra_fields_are_tolerated(harness_factory: Any) -> None:
    """Fields a newer Alertmanager may add are ignored, not refused."""
    h = await harness_factory()
    payload = load_payload(REFERENCE)
    payload["newTopLevel"] = {"x": 1}
    payload["alerts"][0]["silencedBy"] = ["abc"]
    assert await h.post(payload) == (200, {"status": "accepted", "id": 1})


async def test_deeply_nested_json_is_invalid_not_a_crash(harness_factory: Any) -> None:
    """JSON nested past the parser's depth is a 400 invalid_json, never a 500."""
    h = await harness_factory()
    status, body = await _post_raw(
        h, "/webhook", {"Content-Type": "application/json"}, "[" * 100_000 + "]" * 100_000
    )
    assert (status, body) == (400, {"error": "invalid_json", "detail": "nested too deeply"})


async def test_unknown_path_and_method_get_json_errors(harness_factory: Any) -> None:
    """Unknown paths answer 404 not_found and wrong methods 405, both as JSON."""
    h = await harness_factory()
    missing = await h.client.get("/nope")
    assert (missing.status, await missing.json()) == (
        404,
        {"error": "not_found", "detail": "Not Found"},
    )
    wrong = await h.client.get("/webhook")
    assert (wrong.status, await wrong.json()) == (
        405,
        {"error": "method_not_allowed", "detail": "Method Not Allowed"},
    )


async def test_queue_full_answers_503_and_keeps_duplicates_200(harness_factory: Any) -> None:
    """Past queue.max_pending new work gets 503 unavailable; a redelivery is still 200."""
    h = await harness_factory(sections={"queue": {"max_pending": 1}})
    h.notifiers["a"].gate = asyncio.Event()  # hold the first delivery
    assert await h.post(load_payload("firing.json")) == (200, {"status": "accepted", "id": 1})
    assert await h.post(load_payload("firing-checkout-service.json")) == (
        503,
        {"error": "unavailable", "detail": "queue full"},
    )
    assert await h.post(load_payload("firing.json")) == (200, {"status": "duplicate", "id": 1})
    h.notifiers["a"].gate.set()
    await h.service.dispatcher.wait_idle(SETTLE_SECONDS)
    assert await h.post(load_payload("firing-checkout-service.json")) == (
        200,
        {"status": "accepted", "id": 2},
    )


async def test_webhook_metrics_count_route_and_code(harness_factory: Any, tmp_path: Path) -> None:
    """flamebot_webhooks_total counts by route and code; unknown routes as route="unknown"."""
    h = await harness_factory()
    await h.post(load_payload("firing.json"))
    await h.post(load_payload("firing.json"), "/webhook/both")
    await h.post(load_payload("firing.json"), "/webhook/typo")
    await h.post("not json")
    text = await (await h.client.get("/metrics")).text()
    lines = [line for line in text.splitlines() if line.startswith("flamebot_webhooks_total")]
    assert sorted(lines) == [
        'flamebot_webhooks_total{code="200",route="both"} 1.0',
        'flamebot_webhooks_total{code="200",route="default"} 1.0',
        'flamebot_webhooks_total{code="400",route="default"} 1.0',
        'flamebot_webhooks_total{code="404",route="unknown"} 1.0',
    ]


async def test_lone_surrogates_are_refused_and_big_numbers_are_not(harness_factory: Any) -> None:
    """A lone surrogate is a 400; a 100-bit integer or 300 nested lists is still a webhook."""
    h = await harness_factory()
    payload = load_payload(REFERENCE)
    payload["alerts"][0]["labels"]["team"] = "pay\ud800ments"
    status, body = await _post_raw(
        h, "/webhook", {"Content-Type": "application/json"}, json.dumps(payload)
    )
    assert (status, body) == (
        400,
        {"error": "invalid_json", "detail": "a string holds a lone surrogate (not Unicode)"},
    )
    payload = load_payload(REFERENCE)
    payload["newTopLevel"] = {"big": 10**30, "deep": None}
    nested: Any = 0
    for _ in range(300):
        nested = [nested]
    payload["newTopLevel"]["deep"] = nested
    assert await h.post(payload) == (200, {"status": "accepted", "id": 1})
    assert h.service.store.intake.pending == 1


async def test_bodies_only_pythons_parser_takes_are_still_webhooks(harness_factory: Any) -> None:
    """A UTF-8 byte-order mark or a UTF-16 body is the webhook its plain UTF-8 twin is."""
    h = await harness_factory()
    text = json.dumps(load_payload(REFERENCE))
    headers = {"Content-Type": "application/json"}
    with_mark = await _post_raw(h, "/webhook", headers, b"\xef\xbb\xbf" + text.encode())
    assert with_mark == (200, {"status": "accepted", "id": 1})
    assert await _post_raw(h, "/webhook", headers, text.encode("utf-16")) == (
        200,
        {"status": "duplicate", "id": 1},
    )
    assert await _post_raw(h, "/webhook", headers, text.encode()) == (
        200,
        {"status": "duplicate", "id": 1},
    )
