"""Peak memory of the real CLI answering a query whose one value is 200 MB: target < 300 MB, answer truncated.

Each figure is the peak resident set size (ru_maxrss from os.wait4) of one fresh process:
  - `blueprintdata chat -m "/sql SELECT 1"` on the demo DuckDB warehouse: the CLI's own floor;
  - `blueprintdata chat -m "/sql SELECT repeat('x', 200000000)"`: the target's query, and whether its answer
    says the value was truncated;
  - `/sql SELECT g, repeat('y', 1000000) FROM range(1500) g`: the issue's 1.5 GB result (4.6 GB before);
  - `/sql SELECT length(repeat('x', 200000000))`: the value read rather than shown: refused in one line, as a
    value a query builds inside itself is bounded (tools/warehouse/built_size.py);
  - values built in DuckDB's expressions and in its buffers, which that bound and the memory limit
    (BLUEPRINTDATA_DUCKDB_MEMORY_LIMIT) stop: a list repeated, a size computed per row, an aggregate of 10^8 rows;
  - bare DuckDB in Python computing `length(repeat('x', 200000000))`, nothing of ours: what the engine itself
    needs to build that value in this process, a floor no connector code can go under;
  - with PostgreSQL (BLUEPRINTDATA_TEST_POSTGRES_URL set): our connector alone fetching the 200 MB value,
    which the server cuts before sending.
The demo warehouse is built by a first, unmeasured run.

The CLI stays near its floor because a value built in an output column (repeat, lpad, rpad, space) is built
only as long as the cell cut keeps (tools/warehouse/built_text.py); bare DuckDB shows what it would cost
otherwise. A value the query goes on to read (length(repeat(...))) is refused when it would pass 32,768
characters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MB = 300
HUGE_VALUE_SQL = "SELECT repeat('x', 200000000)"
# The same value read by the query rather than shown: its answer needs all of it, so it is built whole.
READ_VALUE_SQL = "SELECT length(repeat('x', 200000000)) AS n"
CLI = Path(sys.executable).with_name("blueprintdata")
# Values DuckDB builds inside the query (its memory limit does not count them) and in its buffers (it does).
IN_QUERY_SQL = [
    "SELECT len(repeat([1], 50000000)) AS n",
    "SELECT max(length(repeat('x', 100000 + x))) AS n FROM range(100000) AS t(x)",
    "SELECT len(list(x)) AS n FROM range(100000000) AS t(x)",
]

_ENGINE_ONLY = """
import duckdb
duckdb.connect().execute("SELECT length(repeat('x', 200000000))").fetchall()
"""
_POSTGRES_CONNECTOR = """
import sys
import sqlalchemy as sa
from tools.warehouse.dialects.postgres import POSTGRES
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse
warehouse = SqlAlchemyWarehouse(sa.make_url(sys.argv[1]), dialect=POSTGRES, setting_name="benchmark")
result = warehouse.execute_readonly("SELECT repeat('x', 200000000)", max_rows=10000, timeout_seconds=120)
print(result.truncation_note)
"""


def peak_rss(command: list[str], env: dict[str, str], *, refusal_ok: bool = False) -> tuple[float, str]:
    """(peak RSS in MB, stdout) of one process run to its end; with `refusal_ok`, exit code 1 (a refused query)
    is an answer too."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 and not (refusal_ok and process.returncode == 1):
        raise SystemExit(f"{' '.join(command[:3])} … exited with {process.returncode}:\n{output[-2000:]}")
    return usage.ru_maxrss / 1024, output  # ru_maxrss is in KB on Linux.


def cli_environment(data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
    }
    env.update(
        BLUEPRINTDATA_DATA_DIR=str(data_dir),
        BLUEPRINTDATA_DATABASE_URL=f"sqlite:///{data_dir / 'store.db'}",
        MPLBACKEND="Agg",
        NO_COLOR="1",
        COLUMNS="120",
    )
    return env


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = cli_environment(Path(folder))
        subprocess.run([str(CLI), "chat", "-m", "/help"], env=env, check=True, capture_output=True)
        floor, _ = peak_rss([str(CLI), "chat", "-m", "/sql SELECT 1"], env)
        huge, answer = peak_rss([str(CLI), "chat", "-m", f"/sql {HUGE_VALUE_SQL}"], env)
        wide, wide_answer = peak_rss(
            [str(CLI), "chat", "-m", "/sql SELECT g, repeat('y', 1000000) FROM range(1500) g"], env
        )
        read, read_answer = peak_rss([str(CLI), "chat", "-m", f"/sql {READ_VALUE_SQL}"], env, refusal_ok=True)
        in_query = [
            (sql, *peak_rss([str(CLI), "chat", "-m", f"/sql {sql}"], env, refusal_ok=True))
            for sql in IN_QUERY_SQL
        ]
    engine, _ = peak_rss([sys.executable, "-c", _ENGINE_ONLY], dict(os.environ))
    said = "truncated" in answer
    first_line = answer.strip().splitlines()[0] if answer.strip() else ""
    print(f"CLI `/sql SELECT 1` (the CLI's floor):                 {floor:7.0f} MB peak RSS")
    print(f"CLI `/sql {HUGE_VALUE_SQL}`:       {huge:7.0f} MB peak RSS (target < {TARGET_MB} MB)")
    print(f"  its answer: {first_line[:110]}")
    print(
        f"  says truncated: {'yes' if said else 'NO'}; target met: {'yes' if huge < TARGET_MB and said else 'NO'}"
    )
    print(f"CLI 1,500 rows of 1 MB (the issue's 4.6 GB query):       {wide:7.0f} MB peak RSS")
    print(f"  its answer: {wide_answer.strip().splitlines()[0][:110]}")
    print(
        f"CLI `/sql {READ_VALUE_SQL}`: {read:7.0f} MB peak RSS (value read, not shown; target < {TARGET_MB} MB)"
    )
    print(f"  its answer: {read_answer.strip().splitlines()[0][:110]}")
    for sql, peak, sql_answer in in_query:
        print(f"CLI `/sql {sql}`: {peak:7.0f} MB peak RSS")
        print(f"  its answer: {sql_answer.strip().splitlines()[0][:110]}")
    print(f"bare DuckDB computing that 200 MB value, nothing of ours: {engine:7.0f} MB peak RSS")
    print(
        f"  (DuckDB builds the value twice, ~{engine - 70:.0f} MB over its own ~70 MB: what a shown value would "
        "cost unbounded)"
    )
    postgres_url = os.environ.get("BLUEPRINTDATA_TEST_POSTGRES_URL")
    if postgres_url:
        connector, note = peak_rss(
            [sys.executable, "-c", _POSTGRES_CONNECTOR, postgres_url], dict(os.environ)
        )
        print(
            f"PostgreSQL connector fetching the 200 MB value:         {connector:7.0f} MB peak RSS ({note.strip()})"
        )
    else:
        print(
            "PostgreSQL: set BLUEPRINTDATA_TEST_POSTGRES_URL to measure the connector on a server that cuts"
        )


if __name__ == "__main__":
    main()
