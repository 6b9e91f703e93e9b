"""make_chart draws readable PNGs from real results, and explains what it cannot draw."""

from __future__ import annotations

import struct
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tools.artifacts import ArtifactKind, ArtifactRef
from tools.charts.drawing import compact_number
from tools.charts.shaping import shape
from tools.errors import ToolInputError
from tools.make_chart import MakeChartInput, make_chart
from tools.registry import ToolContext
from tools.results import Column, QueryResult, ResultStore


class FolderArtifacts:
    """Writes artifacts into a folder, as the real writer does, and remembers them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[ArtifactRef] = []

    def save(
        self,
        *,
        session_id: str | None,
        kind: ArtifactKind,
        title: str,
        filename: str,
        mime_type: str,
        data: bytes,
    ) -> ArtifactRef:
        path = self.folder / filename
        path.write_bytes(data)
        ref = ArtifactRef(
            artifact_id=f"a{len(self.saved)}", kind=kind, path=path, mime_type=mime_type, title=title
        )
        self.saved.append(ref)
        return ref


def context_with(
    tmp_path: Path, columns: list[tuple[str, str]], rows: list[list[Any]]
) -> tuple[ToolContext, str]:
    results = ResultStore()
    table = results.put(
        QueryResult(
            columns=[Column(name=n, type=t) for n, t in columns], rows=rows, truncated=False, elapsed_ms=1
        ),
        sql="SELECT ...",
        session_id=None,
    )
    context = ToolContext(
        limits=None,  # type: ignore[arg-type]
        warehouse_provider=lambda: None,  # type: ignore[arg-type, return-value]
        dbt_provider=lambda: None,  # type: ignore[arg-type, return-value]
        results=results,
        artifacts=FolderArtifacts(tmp_path),
    )
    return context, table.result_id


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


DAYS = [date(2024, 1, 1) + timedelta(days=n) for n in range(60)]


@pytest.mark.parametrize("kind", ["line", "area", "bar", "scatter"])
def test_time_series_charts_render_at_preview_size(tmp_path: Path, kind: str) -> None:
    rows = [[day.isoformat(), Decimal(1000 + n * 37), n * 3] for n, day in enumerate(reversed(DAYS))]
    context, result_id = context_with(
        tmp_path, [("day", "DATE"), ("revenue", "DECIMAL"), ("orders", "INT")], rows
    )
    output = make_chart(
        context,
        MakeChartInput(result_id=result_id, kind=kind, x="day", y=["revenue", "orders"], title="Revenue"),
    )  # type: ignore[arg-type]
    assert output.artifact is not None
    assert png_size(output.artifact.path) == (1600, 1000)
    assert "60 points" in output.content


def test_long_category_lists_fold_into_other(tmp_path: Path) -> None:
    rows = [[f"product {n}", n] for n in range(30)]
    context, result_id = context_with(tmp_path, [("product", "VARCHAR"), ("sold", "INT")], rows)
    table = context.results.get(result_id)
    assert table is not None
    data = shape(table, "product", ["sold"], None, top_n=8, sort_time=True)
    assert data.x[:2] == ["product 29", "product 28"] and data.x[-1] == "Other (23)"
    assert data.series["sold"][-1] == sum(range(23))
    output = make_chart(
        context, MakeChartInput(result_id=result_id, kind="pie", x="product", y="sold", title="Sold", top_n=8)
    )  # type: ignore[arg-type]
    assert output.artifact is not None and png_size(output.artifact.path)[0] == 1600


def test_series_column_pivots_long_data_and_sorts_time(tmp_path: Path) -> None:
    rows = [[day, channel, n] for n, day in enumerate(DAYS[:5]) for channel in ("web", "mobile")]
    rows.reverse()
    context, result_id = context_with(
        tmp_path, [("day", "DATE"), ("channel", "VARCHAR"), ("orders", "INT")], rows
    )
    table = context.results.get(result_id)
    assert table is not None
    data = shape(table, "day", ["orders"], "channel", top_n=12, sort_time=True)
    assert set(data.series) == {"web", "mobile"} and data.x_is_time
    assert data.x == sorted(data.x) and data.series["web"] == [0, 1, 2, 3, 4]


def test_unusable_input_is_explained(tmp_path: Path) -> None:
    context, result_id = context_with(tmp_path, [("name", "VARCHAR"), ("note", "VARCHAR")], [["a", "x"]])
    with pytest.raises(ToolInputError, match="run run_query first"):
        make_chart(
            context, MakeChartInput(result_id="r_missing", kind="bar", x="name", y=["note"], title="t")
        )
    with pytest.raises(ToolInputError, match=r"No column 'nope'.*columns: name, note"):
        make_chart(context, MakeChartInput(result_id=result_id, kind="bar", x="name", y=["nope"], title="t"))
    with pytest.raises(ToolInputError, match="not numeric"):
        make_chart(context, MakeChartInput(result_id=result_id, kind="bar", x="name", y=["note"], title="t"))


def test_value_axis_numbers_are_compact() -> None:
    assert [compact_number(v) for v in (0, 999, 8_000, 12_500, 1_250_000, 2e9)] == [
        "0",
        "999",
        "8,000",
        "12.5K",
        "1.25M",
        "2B",
    ]
