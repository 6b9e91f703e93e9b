"""Artifacts (charts, CSVs) kept in the database and mirrored as files that front ends can open or upload."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from agent.clock import utc_now
from agent.store.models import ArtifactRow
from agent.store.recovery import recovering_methods
from tools.artifacts import ArtifactKind, ArtifactRef


@recovering_methods
class DatabaseArtifactWriter:
    """Implements tools.artifacts.ArtifactWriter: the bytes in the store, a copy on disk."""

    def __init__(self, engine: Engine, directory: Path, retention: timedelta) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._directory = directory
        self._retention = retention

    def save(
        self,
        *,
        session_id: str | None,
        kind: ArtifactKind,
        title: str,
        filename: str,
        mime_type: str,
        data: bytes,
    ) -> ArtifactRef:
        artifact_id = uuid.uuid4().hex[:16]
        safe_name = _safe_filename(filename)
        now = utc_now()
        with self._sessions.begin() as db:
            db.add(
                ArtifactRow(
                    id=artifact_id,
                    session_id=session_id,
                    kind=kind,
                    title=title[:200],
                    filename=safe_name,
                    mime_type=mime_type,
                    data=data,
                    size_bytes=len(data),
                    created_at=now,
                    expires_at=now + self._retention,
                )
            )
        return self._ref_with_file(artifact_id, kind, title, safe_name, mime_type, data)

    def load(self, artifact_id: str) -> tuple[ArtifactRef, bytes] | None:
        """An artifact and its bytes; its file is written again if it was removed."""
        with self._sessions() as db:
            row = db.get(ArtifactRow, artifact_id)
            if row is None:
                return None
            kind: ArtifactKind = "chart" if row.kind == "chart" else "csv"
            ref = self._ref_with_file(row.id, kind, row.title, row.filename, row.mime_type, row.data)
            return ref, row.data

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete artifacts past their retention, rows and files; returns how many."""
        cutoff = now or utc_now()
        with self._sessions.begin() as db:
            expired = db.execute(
                sa.select(ArtifactRow.id, ArtifactRow.filename).where(ArtifactRow.expires_at < cutoff)
            ).all()
            for artifact_id, filename in expired:
                self._path(artifact_id, filename).unlink(missing_ok=True)
            db.execute(sa.delete(ArtifactRow).where(ArtifactRow.expires_at < cutoff))
        return len(expired)

    def _path(self, artifact_id: str, filename: str) -> Path:
        return self._directory / f"{artifact_id}-{filename}"

    def _ref_with_file(
        self, artifact_id: str, kind: ArtifactKind, title: str, filename: str, mime_type: str, data: bytes
    ) -> ArtifactRef:
        path = self._path(artifact_id, filename)
        if not path.exists():
            self._directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return ArtifactRef(artifact_id=artifact_id, kind=kind, path=path, mime_type=mime_type, title=title)


def _safe_filename(filename: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.")
    return cleaned[:120] or "artifact"
