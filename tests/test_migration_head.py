"""A store already at the newest migration is recognised without loading Alembic; a store behind it, and
scripts only Alembic can read, still go through Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from agent.store.database import MIGRATIONS_DIR, alembic_config, create_store_engine, current_revision
from agent.store.migration_head import script_head

_UPGRADE = """
import sys
from agent.store.database import create_store_engine, upgrade_database
upgrade_database(create_store_engine(sys.argv[1]))
print("alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
"""


def _upgrade_in_a_new_process(url: str) -> str:
    done = subprocess.run([sys.executable, "-c", _UPGRADE, url], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_head_read_from_the_scripts_is_alembics(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    alembic_head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert script_head(MIGRATIONS_DIR / "versions") == alembic_head is not None


def test_a_current_store_starts_without_alembic_and_one_behind_is_upgraded(store_url: str) -> None:
    engine = create_store_engine(store_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    head = script_head(MIGRATIONS_DIR / "versions")
    assert _upgrade_in_a_new_process(store_url) == "alembic loaded"
    assert current_revision(engine) == head
    assert _upgrade_in_a_new_process(store_url) == "alembic not loaded"
    assert current_revision(engine) == head
    engine.dispose()


def _script(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / f"{name}.py").write_text(f'"""{name}"""\n\nrevision = {revision}\ndown_revision = {down}\n')


def test_scripts_with_two_heads_or_a_revision_not_plainly_written_are_left_to_alembic(tmp_path: Path) -> None:
    _script(tmp_path, "a", '"a1"', "None")
    _script(tmp_path, "b", '"b1"', '"a1"')
    assert script_head(tmp_path) == "b1"
    _script(tmp_path, "c", '"c1"', '"a1"')
    assert script_head(tmp_path) is None  # two heads
    _script(tmp_path, "d", '"d1"', '("b1", "c1")')
    assert script_head(tmp_path) == "d1"  # a merge
    _script(tmp_path, "e", 'make_revision("e1")', '"d1"')
    assert script_head(tmp_path) is None
