"""Messages and files as Slack's Web API shows them in its answers."""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from tests.fakes.slack.identity import AppIdentity
from tests.fakes.slack.messages import SlackMessage, UploadedFile


def message_json(message: SlackMessage, app: AppIdentity, parent: SlackMessage | None) -> dict[str, Any]:
    """A message as Slack's API shows it; `parent` is the thread's parent message, when known."""
    rendered: dict[str, Any] = {
        "type": "message",
        "text": message.text,
        "user": message.user,
        "ts": message.ts,
    }
    if message.bot_id:
        rendered.update({"bot_id": message.bot_id, "app_id": app.app_id})
    rendered["team"] = app.team_id
    if message.blocks:
        rendered["blocks"] = message.blocks
    if message.thread_ts:
        rendered["thread_ts"] = message.thread_ts
        if parent and parent.ts != message.ts:
            rendered["parent_user_id"] = parent.user
    if message.files:
        rendered["files"] = [file_json(upload, app) for upload in message.files]
        rendered["upload"] = False
    if message.edits:
        rendered["edited"] = {"user": message.user, "ts": message.edits[-1]["until"]}
    if message.metadata:
        rendered["metadata"] = message.metadata
    if message.reactions:
        rendered["reactions"] = [
            {"name": name, "users": users, "count": len(users)}
            for name, users in message.reactions.items()
            if users
        ]
    rendered.update(message.extra)
    return rendered


def file_json(upload: UploadedFile, app: AppIdentity) -> dict[str, Any]:
    """A file object as files.completeUploadExternal and message `files` show it."""
    filetype = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "binary"
    created = int(time.time())
    shares: dict[str, Any] = {}
    if upload.channel:
        share = (
            {"ts": upload.message_ts, "thread_ts": upload.thread_ts}
            if upload.thread_ts
            else {"ts": upload.message_ts}
        )
        shares = {"public": {upload.channel: [share]}}
    return {
        "id": upload.file_id,
        "created": created,
        "timestamp": created,
        "name": upload.filename,
        "title": upload.title,
        "mimetype": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
        "filetype": filetype,
        "user": app.bot_user_id,
        "user_team": app.team_id,
        "size": len(upload.content),
        "mode": "hosted",
        "is_external": False,
        "is_public": bool(upload.channel),
        "url_private": f"https://files.slack.com/files-pri/{app.team_id}-{upload.file_id}/{upload.filename}",
        "permalink": f"https://{app.team_domain}.slack.com/files/{app.bot_user_id}/{upload.file_id}",
        "channels": [upload.channel] if upload.channel else [],
        "shares": shares,
    }
