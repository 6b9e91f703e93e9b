"""The `blueprintdata` command through its real entry point, as a new user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from agent.store.database import alembic_config
from tests.fakes.anthropic_api import FakeAnthropic, text_reply

DAILY = '"shop"."main"."daily_revenue"'


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.launch import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An empty data directory, no API key, no project configured: a first run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_"))}
    env.update(BLUEPRINTDATA_DATA_DIR=str(tmp_path / "data"), COLUMNS="120", NO_COLOR="1")
    return env


def events_of(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_direct_commands_work_on_the_demo_from_an_empty_data_dir(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    commands = "\n".join(
        [
            "/search revenue by day",
            "/describe fct_orders",
            f"/sql SELECT order_date, revenue FROM {DAILY} WHERE order_date < DATE '2024-02-01' ORDER BY 1",
            '/chart line x=order_date y=revenue title="Revenue in January"',
            "/help",
        ]
    )
    result = run_cli("chat", "--json", env=cli_env, stdin=commands)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert [e["tool"] for e in finished] == ["search_models", "describe_model", "run_query", "make_chart"]
    assert not any(e["is_error"] for e in finished)
    assert "daily_revenue" in str(finished[0]["summary"])
    table = finished[2]["table"]
    assert table["rows"][0][0] == "2024-01-01" and len(table["rows"]) == 31  # type: ignore[index]
    chart = Path(str(finished[3]["artifact"]["path"]))  # type: ignore[index]
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert chart.is_relative_to(tmp_path / "data")
    finals = [e for e in events if e["type"] == "final"]
    assert "Unique key: order_id" in str(finals[1]["text"])
    assert "/sql" in str(finals[-1]["text"])


def test_terminal_rendering_shows_table_and_chart_path(cli_env: dict[str, str]) -> None:
    sql = f"/sql SELECT order_date, orders FROM {DAILY} ORDER BY 1 LIMIT 3"
    result = run_cli("chat", env=cli_env, stdin=sql + "\n/chart bar x=order_date y=orders\n")
    assert result.returncode == 0, result.stderr
    assert "order_date" in result.stdout and "2024-01-01" in result.stdout
    assert "Chart saved:" in result.stdout and ".png" in result.stdout


def test_a_question_without_a_key_explains_and_fails(cli_env: dict[str, str]) -> None:
    result = run_cli("chat", "-m", "What was revenue last month?", env=cli_env)
    assert result.returncode == 1
    assert "ANTHROPIC_API_KEY" in result.stdout


def test_refused_sql_exits_non_zero_with_the_reason(cli_env: dict[str, str]) -> None:
    result = run_cli("chat", "-m", f"/sql DROP TABLE {DAILY}", env=cli_env)
    assert result.returncode == 1
    assert "not a read-only query" in result.stdout


def test_one_question_with_a_model_then_resume(cli_env: dict[str, str]) -> None:
    with FakeAnthropic() as fake:
        fake.enqueue(text_reply("Revenue was **3.5M**."), text_reply("Orders were 32,716."))
        env = {**cli_env, "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}
        first = run_cli("chat", "-m", "What was revenue?", env=env)
        assert first.returncode == 0, first.stderr
        assert "Revenue was" in first.stdout and "3.5M" in first.stdout
        second = run_cli("chat", "--resume", "-m", "And orders?", env=env)
        assert second.returncode == 0, second.stderr
        assert [m["role"] for m in fake.requests[1].body["messages"]] == ["user", "assistant", "user"]
    listing = run_cli("sessions", env=cli_env)
    assert "What was revenue?" in listing.stdout


def test_unknown_session_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = run_cli("chat", "--session", "nope123", "-m", "/help", env=cli_env)
    assert result.returncode == 2
    assert "No session 'nope123'" in result.stderr


def test_db_upgrade_reports_the_revision(cli_env: dict[str, str]) -> None:
    result = run_cli("db", "upgrade", env=cli_env)
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://"))).get_current_head()
    assert f"revision {head}" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BLUEPRINTDATA_MAX_TOOL_ITERATIONS", "many", "BLUEPRINTDATA_MAX_TOOL_ITERATIONS"),
        ("BLUEPRINTDATA_WAREHOUSE_URL", "not a url", "BLUEPRINTDATA_DBT_PROJECT_DIR"),
        ("BLUEPRINTDATA_DBT_PROJECT_DIR", "/nonexistent/project", "does not exist"),
        ("BLUEPRINTDATA_DATABASE_URL", "nonsense://", "BLUEPRINTDATA_DATABASE_URL"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    cli_env: dict[str, str], variable: str, value: str, expected: str
) -> None:
    result = run_cli("chat", "-m", "/help", env={**cli_env, variable: value})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_piped_lines_stop_at_a_quit_word_as_the_prompt_does(cli_env: dict[str, str]) -> None:
    result = run_cli("chat", env=cli_env, stdin="/search revenue\n/quit\n/describe daily_revenue\n")
    assert result.returncode == 0, result.stderr
    assert "daily_revenue" in result.stdout  # The search answered.
    assert (
        "Unknown command" not in result.stdout and "Columns" not in result.stdout
    )  # Nothing after /quit ran.
