"""The content of the fake workspace: messages, in their current state and history, and uploaded files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal, the upload URL and files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    content: bytes = b""
    declared_length: int = 0
    uploaded: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None  # the message that shared it
    alt_txt: str | None = None
    snippet_type: str | None = None


@dataclass
class SlackMessage:
    """A message in the fake workspace, in its current state; earlier versions are in `edits`."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    origin: str = "api"  # "api" posted by the app, "event" built for a test event, "seed" from seed_thread
    files: list[UploadedFile] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(
        default_factory=list
    )  # earlier {"text", "blocks", "until"}, oldest first
    streaming: str | None = None  # "in_progress", "completed" or "expired" for chat.startStream messages
    chunks: list[dict[str, Any]] = field(default_factory=list)  # streamed task and plan updates
    metadata: dict[str, Any] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    ephemeral_to: str | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def replace_content(self, text: str, blocks: list[dict[str, Any]], edited_at: str) -> None:
        """Edit the message, keeping the version it replaces in `edits`."""
        self.edits.append({"text": self.text, "blocks": self.blocks, "until": edited_at})
        self.text, self.blocks = text, blocks
