"""Run every benchmark in benchmarks/ one after another and print their figures: python -m benchmarks.run_all"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import cast

from benchmarks import shared_data

BENCHMARKS_DIR = Path(__file__).resolve().parent


def benchmark_names() -> list[str]:
    """The benchmark modules (bench_*.py), in name order."""
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(BENCHMARKS_DIR)])
        if module.name.startswith("bench_")
    )


def missing_shared_data(exit: SystemExit) -> bool:
    """Whether a benchmark stopped because ../shared/data (or a part of it) is not there."""
    return str(exit.code).startswith(str(shared_data.SHARED_DATA))


def run(name: str) -> str:
    """Run one benchmark's main(); its outcome in one word: ok, skipped or failed."""
    module = importlib.import_module(f"benchmarks.{name}")
    summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
    print(f"== {name}: {summary}", flush=True)
    started = time.perf_counter()
    try:
        cast(Callable[[], None], module.main)()
    except SystemExit as exit:
        if missing_shared_data(exit):
            print(f"skipped: {exit.code}")
            return "skipped"
        print(f"failed: {exit.code}")
        return "failed"
    except Exception:
        traceback.print_exc(file=sys.stdout)
        print(f"failed: {name} raised (traceback above)")
        return "failed"
    finally:
        sys.stdout.flush()
    print(f"({name} took {time.perf_counter() - started:.0f} s)\n", flush=True)
    return "ok"


def main() -> None:
    outcomes = {name: run(name) for name in benchmark_names()}
    print("== summary: " + ", ".join(f"{name} {outcome}" for name, outcome in outcomes.items()))
    if "failed" in outcomes.values():
        raise SystemExit(1)


if __name__ == "__main__":
    main()
