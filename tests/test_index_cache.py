"""The index cache: built once per set of artifacts and index code, read back when they are unchanged, rebuilt
when either changes or the cache file is damaged, and older caches removed."""

from __future__ import annotations

import gc
import json
import os
import pickle
import pickletools
import shutil
import time
import weakref
from pathlib import Path

import pytest

from demo.load import DEMO_PROJECT_DIR
from tests.test_dbt_index import manifest, write_project
from tools.dbt import index_cache
from tools.dbt.index import load_index
from tools.dbt.index_cache import artifacts_checksum, index_format, load_index_cached, remembered_checksum

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


_REAL_CODE = index_cache._INDEX_CODE


def _code_copy(folder: Path) -> tuple[Path, ...]:
    """A copy of the index's code folders under `folder`, as a deployment of the same code would have."""
    return tuple(Path(shutil.copytree(code, folder / code.name)) for code in _REAL_CODE)


def test_a_change_to_the_index_code_gives_new_cache_keys_and_the_index_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No version to bump by hand: changing any byte of the code that builds or holds the index (a file under
    tools/dbt or the glossary package) changes the key, so a cache of older code is not read."""
    project, cache = write_project(tmp_path / "p", MODELS), tmp_path / "cache"
    _age(project, 60)  # the checksum memo is written, and must be left behind too
    monkeypatch.setattr(index_cache, "_INDEX_CODE", _code_copy(tmp_path / "same"))
    same_code = index_format()
    key = remembered_checksum(project, cache)
    load_index_cached(project, cache)
    changed = _code_copy(tmp_path / "changed")
    with (changed[0] / "tokenize.py").open("a") as source:
        source.write("# a change\n")
    monkeypatch.setattr(index_cache, "_INDEX_CODE", changed)
    assert index_format() != same_code
    assert remembered_checksum(project, cache) == artifacts_checksum(project) != key
    load_index_cached(project, cache)
    assert [f.name for f in cache.glob("index-*.pickle")] == [f"index-{artifacts_checksum(project)}.pickle"]
    monkeypatch.setattr(index_cache, "_INDEX_CODE", _code_copy(tmp_path / "same again"))
    assert index_format() == same_code  # the same code, wherever it is installed


def test_the_index_code_is_the_dbt_and_glossary_packages() -> None:
    """What a pickled index names must be covered: each class in it is defined in one of these folders."""
    pickled = pickle.dumps(load_index(DEMO_PROJECT_DIR), protocol=pickle.HIGHEST_PROTOCOL)
    named = {arg for op, arg, _ in pickletools.genops(pickled) if op.name.endswith("UNICODE")}
    ours = {name for name in named if isinstance(name, str) and name.startswith(("tools.", "agent.", "bot."))}
    folders = {folder.name for folder in index_cache._INDEX_CODE}
    assert ours and all(name.split(".")[1] in folders for name in ours), ours
