"""Stored profiles feed search: after `sync`, a question naming a value ("volvo", "dog") finds the model whose
column holds it, through the CLI as a user asks; a sensitive column's values are never searchable or shown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, event

from agent.runtime import Runtime
from agent.store.database import create_store_engine, upgrade_database
from agent.store.profiles import ProfileStore
from tests.test_policy_redteam import RED_TEAM_POLICY, run
from tests.test_profiling_cli import clean_env, invoke
from tools.dbt.index import DbtIndexProvider
from tools.policy import Principal
from tools.profiling.profile import ColumnProfile, ModelProfile, TopValue
from tools.profiling.runner import ProfileOptions, sync_profiles

__all__ = ["clean_env"]  # a fixture these tests use


def _model(name: str, columns: list[str]) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "database": "garage",
        "schema": "main",
        "alias": name,
        "relation_name": f'"garage"."main"."{name}"',
        "original_file_path": f"models/{name}.sql",
        "config": {"materialized": "table"},
        "tags": [],
        # Documented without a word of the values: only the profiles know what the columns hold.
        "columns": {c: {"name": c, "description": ""} for c in columns},
        "checksum": {"name": "sha256", "checksum": name},
        "depends_on": {"nodes": []},
    }


@pytest.fixture
def garage(tmp_path: Path) -> tuple[Path, Path]:
    """A small dbt project on DuckDB: cars by make, pets by kind, owners with a sensitive name column."""
    warehouse = tmp_path / "garage.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "CREATE TABLE cars AS SELECT i AS car_id, ['volvo', 'saab', 'fiat'][i % 3 + 1] AS make "
            "FROM range(60) t(i);"
            "CREATE TABLE pets AS SELECT i AS pet_id, ['dog', 'cat'][i % 2 + 1] AS kind FROM range(40) t(i);"
            "CREATE TABLE owners AS SELECT i AS owner_id, ['Rexford', 'Ottoline'][i % 2 + 1] AS first_name, "
            "['north', 'south'][i % 2 + 1] AS region FROM range(40) t(i);"
        )
    project = tmp_path / "garage_project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: garage\nprofile: garage\n")
    nodes = {
        "model.garage.cars": _model("cars", ["car_id", "make"]),
        "model.garage.pets": _model("pets", ["pet_id", "kind"]),
        "model.garage.owners": _model("owners", ["owner_id", "first_name", "region"]),
    }
    manifest = {
        "metadata": {"project_name": "garage", "adapter_type": "duckdb"},
        "nodes": nodes,
        "sources": {},
    }
    (project / "target" / "manifest.json").write_text(json.dumps(manifest))
    return project, warehouse


def test_after_sync_a_value_word_finds_the_model_that_holds_it(
    clean_env: Path, garage: tuple[Path, Path], tmp_path: Path
) -> None:
    project, warehouse = garage
    env = {
        "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project),
        "BLUEPRINTDATA_WAREHOUSE_URL": f"duckdb:///{warehouse}",
        "BLUEPRINTDATA_DATA_DIR": str(tmp_path / "data"),
        "BLUEPRINTDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    before = invoke("chat", "-m", "/search volvo", env=env)
    assert before.exit_code == 0, before.output
    assert "No models match 'volvo'" in before.output  # no profile yet: nothing says which column holds it

    synced = invoke("sync", env=env)
    assert synced.exit_code == 0, synced.output
    assert "Profiled 3 models" in synced.output

    volvo = invoke("chat", "-m", "/search volvo", env=env)
    assert volvo.exit_code == 0, volvo.output
    text = " ".join(volvo.output.split())
    assert text.split("best first: ")[1].startswith("- cars [model]") and "- pets" not in text
    assert 'values: make holds "volvo"' in text

    dogs = invoke("chat", "-m", "/search which owners have a dog", env=env)
    assert dogs.exit_code == 0, dogs.output
    assert 'kind holds "dog"' in " ".join(dogs.output.split())

    # first_name is sensitive: profiling keeps none of its values, and search has none to find.
    rexford = invoke("chat", "-m", "/search Rexford", env=env)
    assert rexford.exit_code == 0, rexford.output
    assert "No models match 'Rexford'" in rexford.output and 'Rexford"' not in rexford.output


def _profile(unique_id: str, columns: dict[str, tuple[list[str], bool]]) -> ModelProfile:
    return ModelProfile(
        unique_id=unique_id,
        relation=unique_id,
        row_count=10,
        profiled_at=datetime.now(UTC),
        columns={
            name: ColumnProfile(
                name, "text", top_values=tuple(TopValue(v, 1) for v in values), sensitive=flag
            )
            for name, (values, flag) in columns.items()
        },
    )


@pytest.fixture
def store_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_the_index_takes_new_profiles_without_a_restart_and_never_sensitive_values(
    garage: tuple[Path, Path], store_engine: Engine
) -> None:
    project, _ = garage
    store = ProfileStore(store_engine)
    provider = DbtIndexProvider(project, profiles=store, profiles_every_seconds=0)
    assert provider.current().search("volvo") == []

    store.save(_profile("model.garage.cars", {"make": (["volvo", "saab"], False)}))
    # A profile written before sensitivity was judged, or by hand: a sensitive name keeps its values out, as
    # does the profile's own verdict on a column whose name says nothing.
    store.save(
        _profile(
            "model.garage.owners",
            {"first_name": (["Rexford"], False), "region": (["Ottoline"], True)},
        )
    )
    hits = provider.current().search("volvo")
    assert [hit.node.name for hit in hits] == ["cars"]
    assert [str(match) for match in hits[0].values] == ['make holds "volvo"']
    assert provider.current().search("Rexford") == [] and provider.current().search("Ottoline") == []

    # Read again at most every so often: a provider that just read keeps its values until then.
    slow = DbtIndexProvider(project, profiles=store, profiles_every_seconds=3600)
    assert [hit.node.name for hit in slow.current().search("saab")] == ["cars"]
    store.save(_profile("model.garage.pets", {"kind": (["dog"], False)}))
    assert slow.current().search("dog") == []
    assert [hit.node.name for hit in provider.current().search("dog")] == ["pets"]


def test_stored_profiles_are_read_again_only_when_one_was_saved(
    garage: tuple[Path, Path], store_engine: Engine
) -> None:
    """Each due check is one small query for the changes token; every profile is read only after a save."""
    project, _ = garage
    statements: list[str] = []
    event.listen(store_engine, "before_cursor_execute", lambda *call: statements.append(call[2]))
    store = ProfileStore(store_engine)
    store.save(_profile("model.garage.cars", {"make": (["volvo"], False)}))
    provider = DbtIndexProvider(project, profiles=store, profiles_every_seconds=0)

    def profile_reads() -> int:
        return sum("FROM model_profiles" in statement for statement in statements)

    assert [hit.node.name for hit in provider.current().search("volvo")] == ["cars"]
    read = profile_reads()
    assert read > 0
    for _ in range(3):
        provider.current()
    assert profile_reads() == read and sum("profile_changes" in s for s in statements) >= 4
    store.save(_profile("model.garage.pets", {"kind": (["dog"], False)}))
    assert [hit.node.name for hit in provider.current().search("dog")] == ["pets"]
    assert profile_reads() > read


def test_a_store_that_cannot_be_read_leaves_search_working_without_its_values(
    garage: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    project, _ = garage
    # Nothing listens on port 1: every read fails as with a store that is down.
    engine = create_store_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    provider = DbtIndexProvider(project, profiles=ProfileStore(engine), profiles_every_seconds=0)
    assert [hit.node.name for hit in provider.current().search("cars")] == ["cars"]
    assert "the stored profiles cannot be read" in caplog.text
    engine.dispose()


def test_a_hidden_column_keeps_its_values_out_of_search(
    make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(RED_TEAM_POLICY)  # fct_orders.payment_method is hidden from the asker
    syncing = make_runtime(policy_file=policy)
    options = ProfileOptions(sample_rows=1_000_000, timeout_seconds=30)
    sync_profiles(syncing.index(), syncing.warehouse(), syncing.profiles, options, select="fct_orders")
    runtime = make_runtime(policy_file=policy)  # a start after the sync, on the same store
    terminal = run(runtime, "search_models", {"query": "orders paid by paypal"}, Principal.terminal())
    assert 'payment_method holds "paypal"' in terminal.content
    asker = run(runtime, "search_models", {"query": "orders paid by paypal"})
    assert "fct_orders" in asker.content
    assert "payment_method" not in asker.content and '"paypal"' not in asker.content
