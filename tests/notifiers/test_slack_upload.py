"""The alert's flame-graph picture in its Slack thread: files upload v2, beside the delivery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from enrichers.flamegraph_tree import graph_from_stacks
from enrichers.pictures.capture import flamegraph_data
from enrichers.pictures.picture import picture_of
from enrichers.pictures.png import render_png
from enrichers.presets import JVM
from enrichers.result import EnrichmentResult
from receiver.config import Config
from receiver.models import WebhookPayload
from receiver.service import Service
from tests.conftest import load_payload
from tests.fakes.notifiers import FixedEnricher
from tests.fakes.slack import FakeSlack
from tests.notifiers.conftest import Far
from tests.notifiers.samples import CPU_TYPE, SHA256, reference_enrichment

HANDLE = "com.example.PaymentVerticle.handle"
TITLE = "payment-service: cpu diff flame graph, 2026-11-25 17:10:32 to 17:26:32 UTC"
ALT = (
    "Icicle diff flame graph of the cpu profile of payment-service; hotspot"
    f" {SHA256} at 34.2% self (5.1% before); red frames grew since the baseline window,"
    " blue ones shrank"
)


def slack_config(tmp_path: Path, api_url: str, **changes: Any) -> Config:
    """A config whose default route goes to one Slack notifier at `api_url`."""
    entry = {"name": "slack", "type": "slack", "token": "xoxb-test-token", "channel": "#payments"}
    far = Far(None, api_url, tmp_path / "flamebot.db", {**entry, "api_url": api_url})
    return far.config(**changes)


def with_picture(payload: WebhookPayload) -> EnrichmentResult:
    """The reference enrichment with the CPU flame graphs of both windows kept."""
    enrichment = reference_enrichment(payload)
    data = flamegraph_data(
        "cpu",
        CPU_TYPE,
        graph_from_stacks([([HANDLE, SHA256], 342), ([HANDLE], 658)]),
        graph_from_stacks([([HANDLE, SHA256], 51), ([HANDLE], 949)]),
        frames=JVM.frames,
        app_prefixes=["com.example."],
    )
    analysis = enrichment.services[0].model_copy(update={"flamegraph": data})
    return enrichment.model_copy(update={"services": [analysis]})


@pytest.fixture
async def fake_slack(aiohttp_server: Any) -> tuple[FakeSlack, str]:
    fake = FakeSlack()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("/api/"))


async def deliver(service: Service, *names: str) -> None:
    await service.start()
    for name in names:
        await service.accept("default", WebhookPayload.model_validate(load_payload(name)))
        assert await service.dispatcher.wait_idle(10)


def uploads(service: Service) -> dict[str, float]:
    text = service.metrics.render().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith("flamebot_uploads_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('"')[1]] = float(value)
    return found


async def test_the_diff_picture_goes_into_the_alert_thread(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """Post, then getUploadURLExternal, the bytes, completeUploadExternal in the thread."""
    fake, url = fake_slack
    service = Service(slack_config(tmp_path, url), enricher=FixedEnricher(with_picture))
    await deliver(service, "reference-highcpuusage.json")
    await service.stop()
    [message] = fake.top_level()
    [shared] = fake.files.values()
    picture = picture_of(with_picture(load_payload_model()).services[0])
    assert picture is not None
    assert (shared.channel, shared.thread_ts) == ("C0PAYMENTS", message.ts)
    assert (shared.filename, shared.title, shared.alt_txt) == (
        "flamegraph-payment-service-cpu.png",
        TITLE,
        ALT,
    )
    assert shared.data == render_png(picture)
    assert [method for method, _ in fake.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    first = fake.calls[1][1]
    assert (first["filename"], first["length"]) == (shared.filename, str(len(shared.data)))
    assert json.loads(fake.calls[2][1]["files"]) == [{"id": shared.id, "title": TITLE}]
    assert uploads(service) == {"ok": 1.0}


def load_payload_model() -> WebhookPayload:
    return WebhookPayload.model_validate(load_payload("reference-highcpuusage.json"))


async def test_the_alert_does_not_wait_for_its_picture(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """With Slack's upload step held, the delivery is already done and recorded."""
    fake, url = fake_slack
    fake.hold_uploads = asyncio.Event()
    service = Service(slack_config(tmp_path, url), enricher=FixedEnricher(with_picture))
    await deliver(service, "reference-highcpuusage.json")  # the lane is idle: delivered
    assert len(fake.top_level()) == 1
    assert fake.files == {}
    fake.hold_uploads.set()
    await service.stop()
    assert len(fake.files) == 1


async def test_the_service_warms_the_pictures_once_before_any_delivery(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """start() warms before a lane runs, not with `flamegraph: false`; a failure is a line."""
    fake, url = fake_slack
    seen: list[bool] = []
    service = Service(slack_config(tmp_path, url), enricher=FixedEnricher(with_picture))

    def failing() -> None:
        seen.append(service.dispatcher.running)
        raise RuntimeError("Pillow has no FreeType support: cannot draw flame-graph labels")

    monkeypatch.setattr("receiver.notifiers.slack_upload._warm", failing)
    with capture_logs() as logs:
        await deliver(service, "reference-highcpuusage.json")
        await service.stop()
    assert seen == [False]
    assert [e["error"] for e in logs if e["event"] == "flamegraph_warm_failed"] == [
        "RuntimeError: Pillow has no FreeType support: cannot draw flame-graph labels"
    ]
    assert len(fake.top_level()) == 1
    (tmp_path / "off").mkdir()
    off = Service(slack_config(tmp_path / "off", url, flamegraph=False), enricher=FixedEnricher())
    await off.start()
    await off.stop()
    assert seen == [False]


@pytest.mark.parametrize(
    ("failure", "event"),
    [
        ("upload_url", "flamegraph_upload_failed"),
        ("post", "flamegraph_upload_failed"),
    ],
)
async def test_a_failed_upload_is_logged_and_counted_never_retried_or_dead(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str], failure: str, event: str
) -> None:
    """Slack refusing the upload costs the picture only: the alert is delivered, once."""
    fake, url = fake_slack
    service = Service(slack_config(tmp_path, url), enricher=FixedEnricher(with_picture))
    with capture_logs() as logs:
        await service.start()
        if failure == "upload_url":
            fake.fail_upload_url = "invalid_arguments"
        else:
            fake.upload_status = 500
        await deliver(service, "reference-highcpuusage.json")
        await service.stop()
    assert len(fake.top_level()) == 1
    assert fake.files == {}
    assert [m for m, _ in fake.calls].count("files.getUploadURLExternal") == 1
    assert uploads(service) == {"failed": 1.0}
    assert await service_dead_letters(tmp_path) == 0
    failed = [e for e in logs if e["event"] == event]
    assert len(failed) == 1
    assert failed[0]["error"] == (
        "slack files.getUploadURLExternal: invalid_arguments"
        if failure == "upload_url"
        else "slack upload: HTTP 500"
    )


async def service_dead_letters(tmp_path: Path) -> int:
    from receiver.store import Store

    store = Store(tmp_path / "flamebot.db")
    await store.open()
    try:
        return len(await store.deliveries.dead_letters())
    finally:
        await store.close()


async def test_no_picture_without_flame_graphs_updates_or_the_setting(
    tmp_path: Path, fake_slack: tuple[FakeSlack, str]
) -> None:
    """No graphs: skipped; a resolve: no new picture; `flamegraph: false`: no uploads."""
    fake, url = fake_slack
    service = Service(slack_config(tmp_path, url), enricher=FixedEnricher())
    await deliver(service, "reference-highcpuusage.json")
    await service.stop()
    assert (fake.files, uploads(service)) == ({}, {"skipped": 1.0})
    off = slack_config(tmp_path / "off", url, flamegraph=False)
    (tmp_path / "off").mkdir()
    service = Service(off, enricher=FixedEnricher(with_picture))
    await deliver(service, "reference-highcpuusage.json", "reference-highcpuusage-resolved.json")
    await service.stop()
    assert "files.getUploadURLExternal" not in [m for m, _ in fake.calls]
    assert fake.files == {}
    assert uploads(service) == {}


async def test_fake_slack_checks_the_three_steps(fake_slack: tuple[FakeSlack, str]) -> None:
    """Length must match, the file is completed only after its bytes, into a real thread."""
    fake, url = fake_slack
    auth = {"Authorization": "Bearer xoxb-test-token"}
    async with aiohttp.ClientSession(headers=auth) as http:

        async def call(method: str, **params: str) -> dict[str, Any]:
            async with http.post(url + method, params=params) as answer:
                result: dict[str, Any] = await answer.json()
                return result

        posted = await call("chat.postMessage", channel="#payments", text="alert")
        got = await call("files.getUploadURLExternal", filename="a.png", length="3")
        files = json.dumps([{"id": got["file_id"], "title": "t"}])
        early = await call("files.completeUploadExternal", files=files, channel_id="C0PAYMENTS")
        assert early == {"ok": False, "error": "file_not_found"}
        async with http.post(got["upload_url"], data=b"ab") as short:
            assert short.status == 400
        async with http.post(got["upload_url"], data=b"abc") as exact:
            assert exact.status == 200
        by_name = await call("files.completeUploadExternal", files=files, channel_id="#payments")
        assert by_name == {"ok": False, "error": "channel_not_found"}
        nowhere = await call(
            "files.completeUploadExternal", files=files, channel_id="C0PAYMENTS", thread_ts="1.2"
        )
        assert nowhere == {"ok": False, "error": "invalid_thread_ts"}
        assert fake.files == {}
        done = await call(
            "files.completeUploadExternal", files=files, channel_id="C0PAYMENTS",
            thread_ts=posted["ts"],
        )  # fmt: skip
        assert done == {"ok": True, "files": [{"id": got["file_id"], "title": "t"}]}
        assert fake.files[got["file_id"]].data == b"abc"
        zero = await call("files.getUploadURLExternal", filename="a.png", length="0")
        assert zero == {"ok": False, "error": "invalid_arguments"}
