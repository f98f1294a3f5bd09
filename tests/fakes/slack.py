"""A fake Slack Web API (chat.postMessage, chat.update, chat.getPermalink, files upload v2)
that checks what the real one checks.

Wire facts (reference/protocols.md §2): bot token as `Authorization: Bearer xoxb-…`;
errors come as HTTP 200 `{"ok": false, "error": …}` (not_authed, invalid_auth,
channel_not_found, message_not_found, invalid_blocks, msg_blocks_too_long); rate limits as
HTTP 429 with `Retry-After` and `{"ok": false, "error": "ratelimited"}`. `chat.update`
needs the channel *ID* and the message ts that `chat.postMessage` returned. Arguments come
as JSON, a form or the query string (slack-sdk sends the files methods' as query string).

Files upload v2 (§2.6), strictly in its three steps: `files.getUploadURLExternal(filename,
length)` hands out an upload URL and a file ID; a POST of exactly `length` bytes to that
URL uploads them (anything else: 400); `files.completeUploadExternal(files=[{id, title}],
channel_id, thread_ts)` shares the uploaded file into the thread of an existing message of
that channel (by channel ID). A file appears in `files` only once completed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BLOCK_LIMIT = 50
SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
FIELDS_LIMIT = 10
FIELD_TEXT_LIMIT = 2000
BLOCKS_JSON_LIMIT = 13_200  # observed msg_blocks_too_long threshold (bolt-js#2509)


@dataclass
class SharedFile:
    """A completed upload: its bytes, where it was shared, its title and alt text."""

    id: str
    filename: str
    data: bytes
    title: str
    alt_txt: str
    channel: str
    thread_ts: str | None


@dataclass
class _Upload:
    filename: str
    length: int
    alt_txt: str
    data: bytes | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)


def _blocks_error(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > BLOCK_LIMIT:
        return "invalid_blocks"
    if len(json.dumps(blocks)) > BLOCKS_JSON_LIMIT:
        return "msg_blocks_too_long"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header" and len(block["text"]["text"]) > HEADER_LIMIT:
            return "invalid_blocks"
        if kind == "section":
            text = block.get("text", {}).get("text", "")
            fields = block.get("fields", [])
            if len(text) > SECTION_TEXT_LIMIT or len(fields) > FIELDS_LIMIT:
                return "invalid_blocks"
            if any(len(f.get("text", "")) > FIELD_TEXT_LIMIT for f in fields):
                return "invalid_blocks"
    return None


def permalink(channel: str, ts: str) -> str:
    """A message's permalink as chat.getPermalink gives it (the workspace `acme`)."""
    return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"


class FakeSlack:
    """Channels by name -> ID; messages by (channel ID, ts); scripted failures."""

    def __init__(self, token: str = "xoxb-test-token", channels: dict[str, str] | None = None):
        self.token = token
        self.channels = channels or {"#payments": "C0PAYMENTS", "#alerts": "C0ALERTS"}
        self.messages: dict[tuple[str, str], Message] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.script: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # status, body, headers
        self.files: dict[str, SharedFile] = {}  # completed uploads, by file ID
        self.uploads: dict[str, _Upload] = {}  # handed out, not completed
        self.upload_status: int | None = None  # answer uploads with this status instead
        self.fail_upload_url: str | None = None  # answer getUploadURLExternal with this error
        self.hold_uploads: asyncio.Event | None = None  # getUploadURLExternal waits for it
        self._clock = 1_700_000_000

    def fail_next(self, status: int, error: str, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.script.append((status, {"ok": False, "error": error}, headers))

    def top_level(self) -> list[Message]:
        return [m for m in self.messages.values() if m.thread_ts is None]

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.messages.values() if m.thread_ts == ts]

    def _channel_id(self, channel: str) -> str | None:
        if channel in self.channels.values():
            return channel
        return self.channels.get(channel)

    def _next_ts(self) -> str:
        self._clock += 1
        return f"{self._clock}.000100"

    async def arguments(self, request: web.Request) -> dict[str, Any]:
        """A call's arguments, from the query string, a form or a JSON body."""
        found: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            found.update(await request.json())
        elif request.can_read_body:
            found.update(await request.post())
        return found

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self.arguments(request)
        self.calls.append((method, body))
        if self.script:
            status, answer, headers = self.script.pop(0)
            return web.json_response(answer, status=status, headers=headers)
        auth = request.headers.get("Authorization", "")
        if not auth:
            return web.json_response({"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage":
            return web.json_response(self._post(body))
        if method == "chat.update":
            return web.json_response(self._update(body))
        if method == "chat.getPermalink":
            return web.json_response(self._permalink(body))
        if method == "files.getUploadURLExternal":
            if self.hold_uploads is not None:
                await self.hold_uploads.wait()
            if self.fail_upload_url is not None:
                return web.json_response({"ok": False, "error": self.fail_upload_url})
            return web.json_response(self._upload_url(body, str(request.url.origin())))
        if method == "files.completeUploadExternal":
            return web.json_response(self._complete(body))
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    def _upload_url(self, body: dict[str, Any], origin: str) -> dict[str, Any]:
        filename, length = str(body.get("filename", "")), str(body.get("length", ""))
        if not filename or not length.isdigit() or int(length) < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + len(self.files) + 1:08d}"
        self.uploads[file_id] = _Upload(filename, int(length), str(body.get("alt_txt", "")))
        return {"ok": True, "upload_url": f"{origin}/upload/{file_id}", "file_id": file_id}

    async def _receive(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        if self.upload_status is not None:
            return web.Response(status=self.upload_status, text="scripted failure")
        data = await request.read()
        if len(data) != upload.length:
            return web.Response(status=400, text=f"got {len(data)} bytes, length {upload.length}")
        upload.data = data
        return web.Response(text=f"OK - {len(data)}")

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(str(body.get("files", "")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        channel, thread = str(body.get("channel_id", "")), body.get("thread_ts")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}  # needs the channel ID
        if thread is not None and (channel, str(thread)) not in self.messages:
            return {"ok": False, "error": "invalid_thread_ts"}
        pending = [(f, self.uploads.get(str(f.get("id")))) for f in files if isinstance(f, dict)]
        if len(pending) != len(files) or any(u is None or u.data is None for _, u in pending):
            return {"ok": False, "error": "file_not_found"}  # unknown, or not uploaded yet
        shared = []
        for described, upload in pending:
            assert upload is not None
            assert upload.data is not None
            file_id = str(described["id"])
            title = str(described.get("title") or upload.filename)
            self.files[file_id] = SharedFile(
                file_id, upload.filename, upload.data, title, upload.alt_txt, channel, thread
            )
            del self.uploads[file_id]
            shared.append({"id": file_id, "title": title})
        return {"ok": True, "files": shared}

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(body.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        error = _blocks_error(body.get("blocks", []))
        if error:
            return {"ok": False, "error": error}
        thread = body.get("thread_ts")
        if thread is not None and (channel, thread) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(
            channel, ts, body.get("text", ""), body.get("blocks", []), thread
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text")}}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}  # update needs the ID
        message = self.messages.get((channel, ts))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        error = _blocks_error(body.get("blocks", []))
        if error:
            return {"ok": False, "error": error}
        message.edits.append({"text": message.text, "blocks": message.blocks})
        message.text, message.blocks = body.get("text", message.text), body.get("blocks", [])
        return {"ok": True, "channel": channel, "ts": ts, "text": message.text}

    def _permalink(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel", "")), str(body.get("message_ts", ""))
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}  # needs the channel ID
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "permalink": permalink(channel, ts)}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # slack-sdk GETs chat.getPermalink
        app.router.add_post("/upload/{file_id}", self._receive)
        return app
