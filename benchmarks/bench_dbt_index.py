"""Loading and indexing a generated 5,000-model manifest, against plain json.load; from the cache keyed by the
artifacts' checksum; and search latency on it."""

from __future__ import annotations

import copy
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo.load import DEMO_PROJECT_DIR
from tools.dbt.index import load_index
from tools.dbt.index_cache import load_index_cached

MODELS = 5_000
WORDS = [
    "order",
    "customer",
    "revenue",
    "product",
    "payment",
    "refund",
    "invoice",
    "session",
    "event",
    "campaign",
    "channel",
    "region",
    "store",
    "inventory",
    "shipment",
    "subscription",
    "churn",
    "account",
    "user",
    "device",
    "page",
    "click",
    "conversion",
    "margin",
    "discount",
    "tax",
]


def generate_manifest(models: int, seed: int = 7) -> dict[str, Any]:
    """A manifest shaped like dbt's own output: every node, column and test is a copy of the structure dbt wrote
    for the demo project (configs, compiled code, docs, macros), with new names, descriptions and lineage."""
    rng = random.Random(seed)
    demo = json.loads((DEMO_PROJECT_DIR / "target" / "manifest.json").read_text())
    model_template = demo["nodes"]["model.shop.fct_orders"]
    column_template = next(iter(model_template["columns"].values()))
    test_template = next(n for n in demo["nodes"].values() if n["resource_type"] == "test")
    nodes: dict[str, Any] = {}
    names: list[str] = []
    for number in range(models):
        name = f"{rng.choice(['stg', 'int', 'fct', 'dim', 'mart'])}_{'_'.join(rng.sample(WORDS, 2))}_{number}"
        unique_id = f"model.big.{name}"
        columns = {}
        for position in range(rng.randint(8, 30)):
            column = f"{rng.choice(WORDS)}_{rng.choice(['id', 'amount', 'count', 'date', 'name', 'status'])}_{position}"
            description = " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
            columns[column] = {**copy.deepcopy(column_template), "name": column, "description": description}
        parents = rng.sample(names, min(3, len(names)))
        node = copy.deepcopy(model_template)
        node.update(
            name=name,
            unique_id=unique_id,
            alias=name,
            relation_name=f'"analytics"."marts"."{name}"',
            description=" ".join(rng.choices(WORDS, k=rng.randint(10, 60))),
            columns=columns,
            fqn=["big", "marts", name],
            path=f"marts/{name}.sql",
            original_file_path=f"models/marts/{name}.sql",
            checksum={"name": "sha256", "checksum": f"{number:064x}"},
            depends_on={"macros": [], "nodes": [f"model.big.{parent}" for parent in parents]},
            refs=[{"name": parent, "package": None, "version": None} for parent in parents],
        )
        nodes[unique_id] = node
        names.append(name)
        for test_number, column in enumerate(list(columns)[: rng.randint(1, 4)]):
            test = copy.deepcopy(test_template)
            test_name = ["unique", "not_null", "accepted_values", "relationships"][test_number]
            test_id = f"test.big.{test_name}_{name}_{column}"
            test.update(
                unique_id=test_id,
                name=f"{test_name}_{name}_{column}",
                attached_node=unique_id,
                column_name=column,
                test_metadata={"name": test_name, "kwargs": {"column_name": column}, "namespace": None},
                depends_on={"macros": [], "nodes": [unique_id]},
            )
            nodes[test_id] = test
    manifest = {
        key: value
        for key, value in demo.items()
        if key not in {"nodes", "sources", "parent_map", "child_map"}
    }
    manifest.update(nodes=nodes, sources={})
    manifest["metadata"] = {**demo["metadata"], "project_name": "big", "adapter_type": "bigquery"}
    return manifest


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return best, value


def cpu_timed(function: Callable[[], Any], repeat: int) -> float:
    """The best CPU seconds of this process over `repeat` calls: on a shared machine, wall time also counts
    waiting for a core."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best


_FRESH = """
import json, sys, time
from pathlib import Path
from tools.dbt.index import load_index
project = Path(sys.argv[1])
started = time.process_time()
json.loads((project / "target" / "manifest.json").read_bytes()) if sys.argv[2] == "json" else load_index(project)
print(time.process_time() - started)
"""


def fresh_process_cpu(project: Path, what: str) -> float:
    """CPU seconds of one json.load or load_index in a new process: no cache of words or names is warm yet, as
    at a real start (imports not counted)."""
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, str(project), what], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def peak_memory(function: Callable[[], Any]) -> int:
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def write_project(folder: Path, models: int = MODELS) -> Path:
    """A dbt project dir holding a generated manifest of `models` models; its manifest path."""
    (folder / "target").mkdir(parents=True, exist_ok=True)
    (folder / "dbt_project.yml").write_text("name: big\n")
    path = folder / "target" / "manifest.json"
    path.write_text(json.dumps(generate_manifest(models)))
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        path = write_project(project)
        size_mb = path.stat().st_size / 1e6
        json_seconds, _ = timed(lambda: json.loads(path.read_bytes()), 3)
        index_seconds, index = timed(lambda: load_index(project), 3)
        json_cpu = cpu_timed(lambda: json.loads(path.read_bytes()), 3)
        index_cpu = cpu_timed(lambda: load_index(project), 3)
        fresh_json = min(fresh_process_cpu(project, "json") for _ in range(3))
        fresh_index = min(fresh_process_cpu(project, "index") for _ in range(3))
        json_peak = peak_memory(lambda: json.loads(path.read_bytes()))
        index_peak = peak_memory(lambda: load_index(project))
        cache = project / "cache"
        load_index_cached(project, cache)  # builds and stores the cache
        cached_seconds, _ = timed(lambda: load_index_cached(project, cache), 3)
    rng = random.Random(3)
    queries = [" ".join(rng.sample(WORDS, rng.randint(2, 5))) for _ in range(500)]
    latencies = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    print(f"manifest: {MODELS:,} models, {size_mb:.1f} MB")
    print(f"json.load: {json_seconds * 1000:,.0f} ms, peak {json_peak / 1e6:,.0f} MB")
    print(f"load_index: {index_seconds * 1000:,.0f} ms, peak {index_peak / 1e6:,.0f} MB")
    print(f"ratio load_index / json.load: {index_seconds / json_seconds:.2f}x (target <= 1.2x)")
    print(
        f"CPU: json.load {json_cpu * 1000:,.0f} ms, load_index {index_cpu * 1000:,.0f} ms, "
        f"ratio {index_cpu / json_cpu:.2f}x"
    )
    print(
        f"CPU in a fresh process (best of 3): json.load {fresh_json * 1000:,.0f} ms, "
        f"load_index {fresh_index * 1000:,.0f} ms, ratio {fresh_index / fresh_json:.2f}x"
    )
    print(f"load from the index cache (checksum + unpickle): {cached_seconds * 1000:,.0f} ms")
    print(
        f"search over {len(queries)} queries: p50 {statistics.median(latencies):.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms (target p95 < 10 ms)"
    )


if __name__ == "__main__":
    main()
