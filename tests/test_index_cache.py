"""The index cache: built once per set of artifacts, read back when they are unchanged, rebuilt when they
change or the cache file is damaged, and older caches removed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_dbt_index import manifest, write_project
from tools.dbt.index_cache import artifacts_checksum, load_index_cached

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
