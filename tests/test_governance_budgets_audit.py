"""Budgets stop a model call or a question before it happens, with a message naming the budget and its reset;
every turn, refused ones included, leaves an audit row that `blueprintdata audit` and `usage` show."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agent.events import EventList, TurnFailed, TurnFinished
from agent.governance.asker import asking_as
from agent.governance.budgets import period_starts
from agent.runtime import Runtime
from bot.cli.governance_commands import parse_since
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tools.policy import Principal

ANN = Principal(
    "slack_channel", user_id="U0ANN", email="ann@example.com", channel_id="C0DATA", channel_name="data"
)


def governed(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic, tmp_path: Path, budgets: str
) -> Runtime:
    policy = tmp_path / "policy.yml"
    policy.write_text("rules:\n  - name: everyone\n    match: {everyone: true}\n    budgets:\n" + budgets)
    return make_runtime(
        anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url, policy_file=policy
    )


def ask(runtime: Runtime, text: str, principal: Principal = ANN) -> EventList:
    session = runtime.store.open_session(source="slack", external_key=f"T1:{principal.channel_id}:{text}")
    events = EventList()
    with asking_as(principal):
        runtime.agent().handle(session.id, text, events)
    return events


def test_a_question_budget_refuses_before_the_model_is_called(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    runtime = governed(make_runtime, fake_anthropic, tmp_path, "      per_user: {daily_questions: 1}\n")
    fake_anthropic.enqueue(text_reply("There were 42 orders."))
    ask(runtime, "how many orders?")
    refused = ask(runtime, "and yesterday?").of_type(TurnFailed)
    assert len(fake_anthropic.requests) == 1
    assert refused and "Your daily limit of 1 questions is reached" in refused[0].message  # type: ignore[union-attr]
    assert "resets at 00:00 UTC" in refused[0].message  # type: ignore[union-attr]
    # Another user in another channel has a budget of their own.
    fake_anthropic.enqueue(text_reply("Bob's answer."))
    bob = Principal("slack_channel", user_id="U0BOB", channel_id="C0OTHER")
    assert not ask(runtime, "how many orders?", bob).of_type(TurnFailed)
    outcomes = [record.outcome for record in runtime.governance.audit.entries()]
    assert sorted(outcomes) == ["answered", "answered", "refused"]
    usage = ask(runtime, "/usage").of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    assert "You: today 1 questions of 1" in usage and "This channel: today 1 questions" in usage
    assert len(fake_anthropic.requests) == 2  # /usage is answered without the model.


def test_a_cost_budget_stops_the_next_model_call_of_a_turn(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    runtime = governed(make_runtime, fake_anthropic, tmp_path, "      per_channel: {monthly_usd: 0.000001}\n")
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT count(*) AS n FROM fct_orders"}),
        text_reply("never sent"),
    )
    failed = ask(runtime, "how many orders?").of_type(TurnFailed)
    assert len(fake_anthropic.requests) == 1  # The query ran; the second model call never happened.
    assert failed and "This channel's monthly model budget of $0.00 is spent" in failed[0].message  # type: ignore[union-attr]
    [record] = runtime.governance.audit.entries()
    assert record.outcome == "refused" and record.cost_usd > 0
    assert record.tools[0]["tool"] == "run_query" and "fct_orders" in record.tools[0]["sql"]
    assert record.tools[0]["rows"] == 1
    assert {"outcome": "allowed", "subject": "sql", "detail": ""} in record.decisions


def test_policy_refusals_are_audited_and_shown_by_the_cli(
    make_runtime: Callable[..., Runtime],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
    demo_cli_env: dict[str, str],
) -> None:
    runtime = governed(make_runtime, fake_anthropic, tmp_path, "      per_user: {daily_usd: 100}\n")
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT email FROM dim_customers"}),
        text_reply("Emails are masked."),
    )
    ask(runtime, "list customer emails")
    [record] = runtime.governance.audit.entries(user="ann@example.com")
    assert record.outcome == "answered" and record.tools[0]["is_error"]
    assert any(d["outcome"] == "refused" and "email" in d["detail"] for d in record.decisions)
    env = {**demo_cli_env, "BLUEPRINTDATA_POLICY_FILE": str(tmp_path / "policy.yml")}
    shown = _cli(env, "audit", "--format", "json", "--user", "U0ANN")
    assert json.loads(shown)[0]["question"] == "list customer emails"
    assert "U0ANN" in _cli(env, "usage", "--by", "user", "--since", "7d")
    assert "list customer emails" in _cli(env, "audit", "--format", "csv", "--channel", "C0DATA")


def test_budget_periods_and_since() -> None:
    now = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
    assert period_starts(now) == (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert parse_since("7d", now) == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert parse_since("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli.app import main; main()", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_byte_budget_refuses_a_bigquery_query_from_its_dry_run(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery

    fake = FakeBigQuery(bytes_processed=120 * 10**6)
    fake.execute("CREATE TABLE main.daily_revenue AS SELECT DATE '2024-12-01' AS order_date, 1 AS orders")
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "rules:\n  - name: all\n    match: {everyone: true}\n    budgets:\n      per_user: {daily_bytes: 100000000}\n"
    )
    with fake.serving():
        runtime = make_runtime(
            anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url, policy_file=policy,
            dbt_project_dir=DEMO_PROJECT_DIR, warehouse_url=f"bigquery://{PROJECT}/main", bigquery_api_endpoint=ENDPOINT,
        )  # fmt: skip
        fake_anthropic.enqueue(
            tool_use_reply("run_query", {"sql": "SELECT sum(orders) FROM main.daily_revenue"}),
            text_reply("unsent"),
        )
        failed = ask(runtime, "orders?").of_type(TurnFailed)
    assert failed and "Your daily warehouse budget of 100 MB scanned is spent" in failed[0].message  # type: ignore[union-attr]
    assert len(fake.dry_runs) == 1 and not fake.statements  # Estimated by the dry run, never run.


def test_a_terminal_turn_reads_its_session_once_to_know_who_asks(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic
) -> None:
    """The turn resolves its asker as it begins; its tools' context reuses it rather than reading again."""
    import sqlalchemy as sa

    runtime = make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)
    session = runtime.store.open_session(source="cli")
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT count(*) AS n FROM fct_orders"}),
        tool_use_reply("describe_model", {"name": "fct_orders"}),
        text_reply("There were many orders."),
    )
    by_id: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM sessions" in statement and "sessions.id = " in statement:
            by_id.append(statement)

    sa.event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        runtime.agent().handle(session.id, "how many orders?", EventList())
        runtime.agent().handle(session.id, "/describe fct_orders", EventList())
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", count)
    assert len(by_id) == 2, by_id  # One read per turn, whatever its tools.
