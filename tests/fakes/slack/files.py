"""File uploads as slack_sdk's files_upload_v2 makes them: ask for an upload URL, POST the bytes, complete.

files.getUploadURLExternal hands out {http_root}/upload/{file_id}; the bytes arrive there; and
files.completeUploadExternal shares the uploaded files into a channel as one message.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.slack.api_shapes import file_json
from tests.fakes.slack.argument_checks import SlackApiError, missing_fields
from tests.fakes.slack.http_server import HttpAnswer, HttpRequest
from tests.fakes.slack.ids import slack_id
from tests.fakes.slack.messages import UploadedFile
from tests.fakes.slack.request_body import multipart_parts
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace

UPLOAD_ROUTE = "/upload/"


class FileUploads:
    """The two files.* methods and the upload URL's route."""

    def __init__(self, workspace: Workspace, http_root: str) -> None:
        self.workspace = workspace
        self.http_root = http_root

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "files.getUploadURLExternal": self.get_upload_url,
            "files.completeUploadExternal": self.complete_upload,
        }

    def get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("filename", "length") if not args.get(name)]
        if missing:
            raise missing_fields(*missing)
        file_id = slack_id("F")
        self.workspace.files[file_id] = UploadedFile(
            file_id=file_id,
            filename=str(args["filename"]),
            title=str(args["filename"]),
            declared_length=int(args["length"]),
            alt_txt=args.get("alt_txt"),
            snippet_type=args.get("snippet_type"),
        )
        return {"upload_url": f"{self.http_root}{UPLOAD_ROUTE}{file_id}", "file_id": file_id}

    def receive_upload(self, request: HttpRequest) -> HttpAnswer:
        """The route for the upload URL; `request.path` is the file id."""
        with self.workspace.lock:
            upload = self.workspace.files.get(request.path)
            if upload is None:
                return HttpAnswer.text(404, "file not found")
            upload.content = _uploaded_bytes(request.content_type, request.body)
            upload.uploaded = True
        return HttpAnswer.text(200, f"OK - {len(upload.content)}")

    def complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise missing_fields("files")
        uploads = []
        for entry in entries:
            upload = self.workspace.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
            if upload is None or not upload.uploaded:
                raise SlackApiError("file_not_found")
            uploads.append((upload, entry))
        channel = args.get("channel_id") or (args.get("channels") or "").split(",")[0] or None
        thread_ts = args.get("thread_ts") or None
        for upload, entry in uploads:
            upload.title = entry.get("title") or upload.filename
            upload.channel, upload.thread_ts = channel, thread_ts
            upload.initial_comment = args.get("initial_comment")
        if channel:
            # Slack shares the files as one message whose text is the initial comment.
            message = self.workspace.post(channel, args.get("initial_comment") or "", [], thread_ts)
            message.files = [upload for upload, _ in uploads]
            for upload, _ in uploads:
                upload.message_ts = message.ts
        return {"files": [file_json(upload, self.workspace.app) for upload, _ in uploads]}


def _uploaded_bytes(content_type: str, body: bytes) -> bytes:
    """The file's bytes: slack_sdk posts them raw; browsers and other clients post multipart forms."""
    if "multipart/form-data" not in content_type:
        return body
    for part in multipart_parts(content_type, body):
        if part.get_filename() is not None or part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""
