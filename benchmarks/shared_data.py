"""Where the shared benchmark data lives (../shared/data beside the repository)."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under shared/data; exits with a clear message when the data is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        raise SystemExit(f"{path} not found: benchmarks read ../shared/data beside the repository checkout.")
    return path
