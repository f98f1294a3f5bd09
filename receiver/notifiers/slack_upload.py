"""The alert's flame-graph picture, uploaded into its Slack thread (files upload v2).

After the alert message is posted, the diff picture of the lead service's deciding profile
(drawn from the stored analysis: `enrichers.pictures.capture`) goes into the message's
thread in the three steps of reference/protocols.md §2.6: `files.getUploadURLExternal`
(filename, length, alt_txt), a POST of the bytes to the returned URL, and
`files.completeUploadExternal` (files, channel_id, thread_ts). The upload runs beside the
delivery, never in it: the alert message does not wait for it, it is tried once, and a
failure is logged and counted (`flamebot_uploads_total{outcome}`), never retried or
dead-lettered. `warm()` draws one small picture at start-up: the first drawing imports
Pillow's PNG codec and decodes the bundled font, about 0.1 s holding the GIL, which would
otherwise fall on the first alert and on every alert in flight beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from enrichers.pictures.picture import Picture, picture_of
from enrichers.result import EnrichmentResult, ServiceAnalysis
from enrichers.times import window_line
from receiver.background import Background
from receiver.errors import NotifyError
from receiver.notifiers.summary import primary_analysis

__all__ = ["Uploads", "describe_picture"]

log = structlog.get_logger("flamebot.slack")

Call = Callable[..., Awaitable[dict[str, Any]]]  # a Web API method by name, classified
Count = Callable[[str], None]
CONCURRENT_UPLOADS = 2  # pictures drawn and sent at once; the rest wait their turn
CLOSE_GRACE_SECONDS = 5.0  # at shutdown, uploads still running after this are dropped
ALT_TEXT_LIMIT = 1000


@dataclass(frozen=True)
class Described:
    picture: Picture
    filename: str
    title: str
    alt_txt: str


def describe_picture(analysis: ServiceAnalysis) -> Described | None:
    """The picture of an analysis with its file name, title and alt text; None if none."""
    picture = picture_of(analysis)
    data = analysis.flamegraph
    if picture is None or data is None:
        return None
    kind = "diff flame graph" if picture.diff else "flame graph"
    title = f"{analysis.service}: {data.profile} {kind}, {window_line(analysis.window)}"
    alt = f"Icicle {kind} of the {data.profile} profile of {analysis.service}"
    if analysis.hotspot is not None and analysis.hotspot.profile == data.profile:
        spot = analysis.hotspot
        alt += f"; hotspot {spot.function} at {spot.self_pct:.1f}% self"
        if spot.baseline_pct is not None:
            alt += f" ({spot.baseline_pct:.1f}% before)"
    if picture.diff:
        alt += "; red frames grew since the baseline window, blue ones shrank"
    filename = f"flamegraph-{analysis.service}-{data.profile}.png"
    return Described(picture, filename, title, alt[:ALT_TEXT_LIMIT])


def _render(picture: Picture) -> bytes:
    from enrichers.pictures.png import render_png  # Pillow only where pictures are drawn

    return render_png(picture)


def _warm() -> None:
    from enrichers.pictures.png import warm

    warm()


class Uploads:
    """The uploads of one Slack notifier: started after a post, awaited at close."""

    def __init__(self, call: Call, session: Callable[[], aiohttp.ClientSession], count: Count):
        self._call = call
        self._session = session
        self._count = count
        self._slots = asyncio.Semaphore(CONCURRENT_UPLOADS)
        self._running = Background()

    def start(self, enrichment: EnrichmentResult, channel: str, ts: str) -> None:
        """Upload the alert's picture into the thread of message `ts`, in the background."""
        self._running.start(self._upload(enrichment, channel, ts))

    async def warm(self) -> None:
        """Draw one small picture off the loop, so the first upload costs what the others do."""
        try:
            await asyncio.to_thread(_warm)
        except Exception as exc:  # the first upload will fail the same way, and say so
            log.warning("flamegraph_warm_failed", error=f"{type(exc).__name__}: {exc}")

    async def idle(self) -> None:
        """Wait for the uploads started so far (tests, shutdown)."""
        await self._running.idle()

    async def aclose(self) -> None:
        await self._running.cancel(grace=CLOSE_GRACE_SECONDS)

    async def _upload(self, enrichment: EnrichmentResult, channel: str, ts: str) -> None:
        lead = primary_analysis(enrichment)
        described = describe_picture(lead) if lead is not None else None
        if described is None:
            self._count("skipped")
            return
        bound = log.bind(service=described.picture.service, channel=channel, thread_ts=ts)
        async with self._slots:
            try:
                data = await asyncio.to_thread(_render, described.picture)
                file_id = await self._send(described, data, channel, ts)
            except NotifyError as exc:
                self._count("failed")
                bound.warning("flamegraph_upload_failed", error=str(exc))
                return
            except Exception as exc:  # a picture must never take a delivery down with it
                self._count("failed")
                bound.exception("flamegraph_upload_failed", error=type(exc).__name__)
                return
        self._count("ok")
        bound.info("flamegraph_uploaded", file_id=file_id, bytes=len(data))

    async def _send(self, described: Described, data: bytes, channel: str, ts: str) -> str:
        got = await self._call(
            "files.getUploadURLExternal",
            filename=described.filename,
            length=len(data),
            alt_txt=described.alt_txt,
        )
        url, file_id = got.get("upload_url"), got.get("file_id")
        if not isinstance(url, str) or not isinstance(file_id, str):
            raise NotifyError("slack upload", "no upload_url or file_id", retryable=False)
        try:
            async with self._session().post(url, data=data) as answer:
                if answer.status != 200:
                    raise NotifyError("slack upload", f"HTTP {answer.status}", retryable=False)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NotifyError(
                "slack upload", f"transport error ({type(exc).__name__})", retryable=False
            ) from None
        files = [{"id": file_id, "title": described.title}]
        await self._call(
            "files.completeUploadExternal", files=files, channel_id=channel, thread_ts=ts
        )
        return file_id
