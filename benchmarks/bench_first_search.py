"""Time from starting the terminal client to its first /search answer on a generated 5,000-model project:
once with no index cache (it is built and stored), then with the cache keyed by the artifacts' checksum.

Each run is a fresh process (`blueprintdata chat -m "/search ..."`): imports, settings, store migration, the
index, the search and the exit all count. Target with the cache: within 2 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_dbt_index import MODELS, write_project

_CLIENT = "from bot.cli.app import main; main()"
_REPEAT = 3


def _first_search(project: Path, data_dir: Path) -> float:
    environment = {
        **os.environ,
        "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project),
        "BLUEPRINTDATA_DATA_DIR": str(data_dir),
        "BLUEPRINTDATA_WAREHOUSE_URL": f"duckdb:///{data_dir / 'warehouse.duckdb'}",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, "chat", "-m", "/search revenue by customer and region"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "revenue" not in done.stdout:
        raise SystemExit(
            f"the client failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}"
        )
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        project, data_dir = Path(folder) / "project", Path(folder) / "data"
        size = write_project(project).stat().st_size / 1e6
        cold = _first_search(project, data_dir)
        cached = [_first_search(project, data_dir) for _ in range(_REPEAT)]
    print(f"project: {MODELS:,} models, manifest {size:.1f} MB; machine load {os.getloadavg()[0]:.1f}")
    print(f"first /search, no index cache (builds it): {cold:.2f} s")
    print(
        f"first /search, index cached: median {statistics.median(cached):.2f} s, "
        f"best {min(cached):.2f} s over {_REPEAT} starts (target <= 2 s)"
    )


if __name__ == "__main__":
    main()
