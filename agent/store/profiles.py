"""Stored model profiles: every profiling attempt is kept; readers get the latest successful one."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from agent.store.models import ModelProfileRow, ProfileChangesRow
from agent.store.recovery import recovering_methods
from tools.profiling.profile import ColumnProfile, ModelProfile

__all__ = ["ColumnProfile", "ModelProfile", "ProfileStore"]


@recovering_methods
class ProfileStore:
    """Model profiles in the store database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def save(self, profile: ModelProfile) -> None:
        """Keep one profiling attempt, successful or not."""
        with self._sessions.begin() as session:
            session.add(
                ModelProfileRow(
                    unique_id=profile.unique_id,
                    relation=profile.relation,
                    manifest_checksum=profile.manifest_checksum,
                    columns_signature=profile.columns_signature,
                    status=profile.status,
                    row_count=profile.row_count,
                    columns={name: column.to_json() for name, column in profile.columns.items()},
                    sampled=profile.sampled,
                    sample_percent=profile.sample_percent,
                    bytes_scanned=profile.bytes_scanned,
                    duration_ms=profile.duration_ms,
                    error=profile.error,
                    profiled_at=profile.profiled_at,
                )
            )
            session.execute(
                sa.update(ProfileChangesRow).where(ProfileChangesRow.id == 1).values(token=uuid.uuid4().hex)
            )

    def changes_token(self) -> str | None:
        """A token that is replaced whenever a profile is saved (None when the store has none to show)."""
        with self._sessions() as session:
            return session.scalar(sa.select(ProfileChangesRow.token).where(ProfileChangesRow.id == 1))

    def latest(self, unique_id: str) -> ModelProfile | None:
        """The newest successful profile of a model, or None when it was never profiled."""
        with self._sessions() as session:
            row = session.scalars(
                sa.select(ModelProfileRow)
                .where(ModelProfileRow.unique_id == unique_id, ModelProfileRow.status == "ok")
                .order_by(ModelProfileRow.profiled_at.desc(), ModelProfileRow.id.desc())
                .limit(1)
            ).first()
            return _profile(row) if row is not None else None

    def all(self) -> dict[str, ModelProfile]:
        """The newest successful profile of every profiled model, by unique id."""
        return self._newest(status="ok")

    def latest_attempts(self) -> dict[str, ModelProfile]:
        """The newest attempt of every model, failed or not: what incremental sync compares against."""
        return self._newest(status=None)

    def row_counts(self, unique_ids: Collection[str]) -> dict[str, int]:
        """The row count of each listed model's newest successful profile: two columns, cheap on every turn."""
        with self._engine.connect() as connection:
            rows = connection.execute(_ROW_COUNTS, {"unique_ids": list(unique_ids)})
            return {unique_id: count for unique_id, count in rows if count is not None}

    def _newest(self, status: str | None) -> dict[str, ModelProfile]:
        newest = _ranked_ids(status)
        query = (
            sa.select(ModelProfileRow)
            .join(newest, newest.c.id == ModelProfileRow.id)
            .where(newest.c.rank == 1)
        )
        with self._sessions() as session:
            return {row.unique_id: _profile(row) for row in session.scalars(query)}


def _ranked_ids(
    status: str | None, unique_ids: Collection[str] | sa.BindParameter[list[str]] | None = None
) -> sa.Subquery:
    """Profile ids ranked newest first within each model (rank 1 is the newest), optionally of one status."""
    ranked = sa.select(
        ModelProfileRow.id,
        sa.func.row_number()
        .over(
            partition_by=ModelProfileRow.unique_id,
            order_by=(ModelProfileRow.profiled_at.desc(), ModelProfileRow.id.desc()),
        )
        .label("rank"),
    )
    if status is not None:
        ranked = ranked.where(ModelProfileRow.status == status)
    if unique_ids is not None:
        ranked = ranked.where(ModelProfileRow.unique_id.in_(unique_ids))
    return ranked.subquery()


def _profile(row: ModelProfileRow) -> ModelProfile:
    return ModelProfile(
        unique_id=row.unique_id,
        relation=row.relation,
        row_count=row.row_count,
        profiled_at=row.profiled_at,
        columns={name: ColumnProfile.from_json(data) for name, data in (row.columns or {}).items()},
        status="ok" if row.status == "ok" else "failed",
        error=row.error,
        manifest_checksum=row.manifest_checksum,
        columns_signature=row.columns_signature,
        sampled=row.sampled,
        sample_percent=row.sample_percent,
        bytes_scanned=row.bytes_scanned,
        duration_ms=row.duration_ms,
    )


# Read on every turn (the system prompt names the main models' sizes): built once, as building it costs more
# than SQLite running it.
_NEWEST_OK = _ranked_ids("ok", sa.bindparam("unique_ids", expanding=True))
_ROW_COUNTS = (
    sa.select(ModelProfileRow.unique_id, ModelProfileRow.row_count)
    .join(_NEWEST_OK, _NEWEST_OK.c.id == ModelProfileRow.id)
    .where(_NEWEST_OK.c.rank == 1)
)
