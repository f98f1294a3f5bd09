"""A fake Slack Web API (chat.postMessage, chat.update, chat.getPermalink, files upload v2)
that checks what the real one checks.

Wire facts (reference/protocols.md §2): bot token as `Authorization: Bearer xoxb-…`;
errors come as HTTP 200 `{"ok": false, "error": …}` (not_authed, invalid_auth,
channel_not_found, message_not_found, invalid_blocks, msg_blocks_too_long); rate limits as
HTTP 429 with `Retry-After` and `{"ok": false, "error": "ratelimited"}`. `chat.update`
needs the channel *ID* and the message ts that `chat.postMessage` returned. Arguments come
as JSON, a form or the query string (slack-sdk sends the files methods' as query string).

Channels: `conversations.list` ({id, name} per channel, `limit` 1..1000, cursor-paged).
Message metadata and history: `chat.postMessage` takes `metadata` ({"event_type": str,
"event_payload": object}; anything else: `invalid_metadata_format`); `conversations.history`
(top-level messages of a channel *ID*, newest first, `ts` after `oldest` (or equal with
`inclusive`), `limit` (default 100, 1..999) and `cursor` pagination via
`response_metadata.next_cursor`) and `conversations.replies` (a thread: its parent first,
then replies oldest first) return each message's metadata only with
`include_all_metadata=true`.

Files upload v2 (§2.6), strictly in its three steps: `files.getUploadURLExternal(filename,
length)` hands out an upload URL and a file ID; a POST of exactly `length` bytes to that
URL uploads them (anything else: 400); `files.completeUploadExternal(files=[{id, title}],
channel_id, thread_ts)` shares the uploaded file into the thread of an existing message of
that channel (by channel ID). A file appears in `files` only once completed.
"""

from __future__ import annotations

import asyncio
import json
import time
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
    metadata: dict[str, Any] | None = None

    def listed(self, with_metadata: bool) -> dict[str, Any]:
        """The message as conversations.history and .replies list it."""
        shown: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.blocks:
            shown["blocks"] = self.blocks
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata is not None:
            shown["metadata"] = self.metadata
        return shown


def _metadata_error(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return "invalid_metadata_format"
    if not isinstance(metadata, dict) or set(metadata) - {"event_type", "event_payload"}:
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_payload"), dict):
        return "invalid_metadata_format"
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


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


def _window(body: dict[str, Any], most: int) -> tuple[int, int] | str:
    """(limit, start) of a cursor-paged call, or the error Slack names for bad ones."""
    try:
        limit = int(body.get("limit") or 100)
        start = int(str(body.get("cursor") or "0").removeprefix("next:"))
    except ValueError:
        return "invalid_arguments"
    if not 1 <= limit <= most:
        return "invalid_limit"
    return limit, start


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
        self._last_ts = 0.0

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
        # Slack's ts is the time of the message (microseconds), unique within a channel.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

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
        answer = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.getPermalink": self._permalink,
            "conversations.list": self._list,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "files.completeUploadExternal": self._complete,
        }.get(method)
        if answer is not None:
            return web.json_response(answer(body))
        if method == "files.getUploadURLExternal":
            if self.hold_uploads is not None:
                await self.hold_uploads.wait()
            if self.fail_upload_url is not None:
                return web.json_response({"ok": False, "error": self.fail_upload_url})
            return web.json_response(self._upload_url(body, str(request.url.origin())))
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
        metadata = body.get("metadata")
        if _metadata_error(metadata):
            return {"ok": False, "error": "invalid_metadata_format"}
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(
            channel, ts, body.get("text", ""), body.get("blocks", []), thread, metadata=metadata
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

    def _page(self, body: dict[str, Any], found: list[Message]) -> dict[str, Any]:
        """One page of `found` per limit and cursor, metadata as asked, after `oldest`."""
        oldest = float(body.get("oldest") or 0)
        inclusive = _truthy(body.get("inclusive", False))
        found = [m for m in found if float(m.ts) > oldest or (inclusive and float(m.ts) == oldest)]
        window = _window(body, most=999)
        if isinstance(window, str):
            return {"ok": False, "error": window}
        limit, start = window
        page = found[start : start + limit]
        more = start + limit < len(found)
        with_metadata = _truthy(body.get("include_all_metadata", False))
        return {
            "ok": True,
            "messages": [m.listed(with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.list: the channels ({id, name} without the `#`), cursor-paged."""
        window = _window(body, most=1000)
        if isinstance(window, str):
            return {"ok": False, "error": window}
        limit, start = window
        everything = sorted(self.channels.items())
        page = everything[start : start + limit]
        more = start + limit < len(everything)
        return {
            "ok": True,
            "channels": [{"id": cid, "name": name.lstrip("#")} for name, cid in page],
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel", ""))
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}  # history needs the ID
        top = [m for m in self.messages.values() if m.channel == channel and m.thread_ts is None]
        return self._page(body, sorted(top, key=lambda m: float(m.ts), reverse=True))

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        if channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        parent = self.messages.get((channel, ts))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = sorted(self.replies(ts), key=lambda m: float(m.ts))
        return self._page({**body, "oldest": body.get("oldest") or 0}, [parent, *thread])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # read methods (chat.getPermalink) GET
        app.router.add_post("/upload/{file_id}", self._receive)
        return app
