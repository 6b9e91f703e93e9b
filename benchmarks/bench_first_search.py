"""Time from starting the terminal client to its first /search answer on a generated 5,000-model project:
once with no index cache (it is built and stored), then with the cache keyed by the artifacts' checksum.

Each run is a fresh process (`blueprintdata chat -m "/search ..."`): imports, settings, store migration, the
index, the search and the exit all count. Target with the cache: within 2 s.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_dbt_index import MODELS, write_project

_CLIENT = "from bot.cli.launch import main; main()"  # what the `blueprintdata` script runs
_REPEAT = 3


def _first_search(project: Path, data_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the client process) from start to exit."""
    environment = {
        **os.environ,
        "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project),
        "BLUEPRINTDATA_DATA_DIR": str(data_dir),
        "BLUEPRINTDATA_WAREHOUSE_URL": f"duckdb:///{data_dir / 'warehouse.duckdb'}",
    }
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, "chat", "-m", "/search revenue by customer and region"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0 or "revenue" not in done.stdout:
        raise SystemExit(
            f"the client failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}"
        )
    return elapsed, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        project, data_dir = Path(folder) / "project", Path(folder) / "data"
        size = write_project(project).stat().st_size / 1e6
        cold = _first_search(project, data_dir)
        cached = [_first_search(project, data_dir) for _ in range(_REPEAT)]
    print(f"project: {MODELS:,} models, manifest {size:.1f} MB; machine load {os.getloadavg()[0]:.1f}")
    print(f"first /search, no index cache (builds it): {cold[0]:.2f} s wall, {cold[1]:.2f} s CPU")
    walls, cpus = [wall for wall, _ in cached], [cpu for _, cpu in cached]
    print(
        f"first /search, index cached: median {statistics.median(walls):.2f} s wall "
        f"({statistics.median(cpus):.2f} s CPU), best {min(walls):.2f} s over {_REPEAT} starts (target <= 2 s)"
    )
    print("(wall time on a shared machine includes waiting for a core; CPU time is the client's own work)")


if __name__ == "__main__":
    main()
