"""Reading a Web API request's arguments from its query string and form, multipart or JSON body."""

from __future__ import annotations

import contextlib
import json
from email import message_from_bytes
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

# Form-encoded calls carry these arguments as JSON strings; JSON calls carry them as JSON values.
_JSON_ARGUMENTS = frozenset(
    {"blocks", "attachments", "metadata", "files", "prompts", "view", "chunks", "loading_messages"}
)


def read_arguments(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from the query string and a form, multipart or JSON body; JSON-valued ones decoded."""
    args: dict[str, Any] = {
        key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()
    }
    if "json" in content_type:
        decoded = json.loads(body or b"{}")
        if not isinstance(decoded, dict):
            raise ValueError("a JSON body must be an object")
        args.update(decoded)
        return args
    if "multipart/form-data" in content_type:
        for part in multipart_parts(content_type, body):
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                args[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    elif body:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        args.update({key: values[-1] for key, values in form.items()})
    for key in _JSON_ARGUMENTS & args.keys():
        if isinstance(args[key], str) and args[key]:
            # Undecodable values stay strings; validation answers invalid_blocks_format and the like.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def multipart_parts(content_type: str, body: bytes) -> list[Message]:
    """The leaf parts of a multipart/form-data body."""
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [part for part in message.walk() if not part.is_multipart()]
