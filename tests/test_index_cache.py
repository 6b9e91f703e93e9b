"""The index cache: built once per set of artifacts, read back when they are unchanged, rebuilt when they
change or the cache file is damaged, and older caches removed."""

from __future__ import annotations

import gc
import json
import os
import time
import weakref
from pathlib import Path

from tests.test_dbt_index import manifest, write_project
from tools.dbt.index_cache import artifacts_checksum, load_index_cached, remembered_checksum

MODELS = {
    "fct_orders": {"description": "Orders", "columns": {"order_id": "", "customer_id": ""}},
    "dim_customers": {"description": "Customers", "columns": {"customer_id": "", "city": ""}},
}


def test_an_unchanged_project_is_read_from_the_cache(tmp_path: Path) -> None:
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    first = load_index_cached(project, cache)
    files = list(cache.glob("index-*.pickle"))
    assert [f.name for f in files] == [f"index-{artifacts_checksum(project)}.pickle"]
    again = load_index_cached(project, cache)
    assert again is not first and [n.name for n in again.nodes()] == [n.name for n in first.nodes()]
    assert again.search("customers by city", 1)[0].node.name == "dim_customers"


def test_changed_artifacts_get_a_new_cache_and_the_old_one_goes(tmp_path: Path) -> None:
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    load_index_cached(project, cache)
    old_key = artifacts_checksum(project)
    models = {**MODELS, "fct_refunds": {"description": "Refunds", "columns": {"refund_id": ""}}}
    (project / "target" / "manifest.json").write_text(json.dumps(manifest(models)))
    index = load_index_cached(project, cache)
    assert index.find("fct_refunds") is not None
    assert [f.name for f in cache.glob("index-*.pickle")] == [f"index-{artifacts_checksum(project)}.pickle"]
    assert artifacts_checksum(project) != old_key


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    load_index_cached(project, cache)
    path = next(cache.glob("index-*.pickle"))
    path.write_bytes(b"not a pickle")
    assert load_index_cached(project, cache).find("fct_orders") is not None
    assert path.read_bytes() != b"not a pickle"


def _age(project: Path, seconds: int) -> None:
    """Set the manifest's modification time `seconds` into the past, as if dbt had written it then."""
    path = project / "target" / "manifest.json"
    modified = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(modified, modified))


def test_the_checksum_of_settled_artifacts_is_remembered_until_they_change(tmp_path: Path) -> None:
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    _age(project, 60)
    assert remembered_checksum(project, cache) == artifacts_checksum(project)
    assert (cache / "checksum.json").exists()
    # Rewritten with the same size: the new modification time says the content changed.
    path = project / "target" / "manifest.json"
    path.write_text(path.read_text().replace("Orders", "Sales!"))
    assert load_index_cached(project, cache).search("sales", 1)[0].node.name == "fct_orders"
    assert remembered_checksum(project, cache) == artifacts_checksum(project)


def test_artifacts_written_moments_ago_are_hashed_every_time(tmp_path: Path) -> None:
    """A rewrite within the file system's clock tick could keep the size and time; such a stamp is not kept."""
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    assert remembered_checksum(project, cache) == artifacts_checksum(project)
    assert not (cache / "checksum.json").exists()


class _Cycle:
    """An object in a reference cycle: only the garbage collector frees it, refcounting cannot."""

    def __init__(self) -> None:
        self.me = self


def test_a_loaded_index_is_frozen_yet_freed_when_replaced_and_garbage_made_between_loads_is_collected(
    tmp_path: Path,
) -> None:
    """Frozen (no collection walks it again), but an index holds no cycles: dropping it frees it; a reload
    collects garbage cycles first, so none is frozen with the new index and kept for good."""
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    load_index_cached(project, cache)
    index = load_index_cached(project, cache)
    assert gc.isenabled() and gc.get_freeze_count() > 0
    assert all(tracked is not index for tracked in gc.get_objects())  # frozen objects are not listed
    dropped = weakref.ref(index)
    del index
    assert dropped() is None
    cycle = _Cycle()
    garbage = weakref.ref(cycle)
    del cycle
    load_index_cached(project, cache)
    assert garbage() is None
