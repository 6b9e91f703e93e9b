"""Files a tool produces for people (chart PNGs, result CSVs) and where front ends find them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

ArtifactKind = Literal["chart", "csv"]


class ArtifactRef(BaseModel):
    """A stored artifact: its id, its file on disk, and how to present it."""

    artifact_id: str
    kind: ArtifactKind
    path: Path
    mime_type: str
    title: str


class ArtifactWriter(Protocol):
    """Saves an artifact's bytes for a session and returns where it is."""

    def save(
        self,
        *,
        session_id: str | None,
        kind: ArtifactKind,
        title: str,
        filename: str,
        mime_type: str,
        data: bytes,
    ) -> ArtifactRef: ...
