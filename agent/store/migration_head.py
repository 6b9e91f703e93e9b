"""Whether the store is already at the newest migration, told without loading Alembic (its import, with Mako
and Pygments, costs more than the rest of a start's store work)."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection

_REVISION = re.compile(r"""^revision\s*=\s*["'](\w+)["']\s*$""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["'](\w+)["']""")


def script_head(versions_dir: Path) -> str | None:
    """The one head of the migration scripts: the revision no other script revises. None when the scripts
    are not all plainly written (`revision = "0007"`, `down_revision = "0006"`, None or a tuple) or there is
    not exactly one head: Alembic itself is asked then."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in versions_dir.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        revised.update(_QUOTED.findall(down[0]))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def at_revision(connection: Connection, revision: str) -> bool:
    """Whether Alembic's version table records exactly `revision` (False when there is no table yet)."""
    if not connection.dialect.has_table(connection, "alembic_version"):
        return False
    found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return found == [revision]
