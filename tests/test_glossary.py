"""The business glossary: loading with errors that name file, entry and field; search, prompt and reload."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.events import EventList
from agent.runtime import Runtime
from agent.settings import Settings
from agent.tool_config import tool_limits
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.test_cli import events_of, run_cli
from tools.dbt.index import DbtIndexProvider, load_index
from tools.describe_model import DescribeModelInput, describe_model
from tools.glossary import DEFAULT_GLOSSARY_NAME, GlossaryError, GlossarySource, load_glossary
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.search_models import SearchModelsInput, search_models

DEMO_GLOSSARY = DEMO_PROJECT_DIR / DEFAULT_GLOSSARY_NAME


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    # Two writes within the file system's timestamp resolution must still look like a change.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the demo project, so its glossary can be edited."""
    copy = tmp_path / "shop"
    shutil.copytree(DEMO_PROJECT_DIR, copy)
    return copy


def context_for(provider: DbtIndexProvider) -> ToolContext:
    return ToolContext(
        limits=tool_limits(Settings()),
        warehouse_provider=lambda: None,  # type: ignore[arg-type, return-value]
        dbt_provider=provider.current,
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )


def demo_provider(project_dir: Path = DEMO_PROJECT_DIR) -> DbtIndexProvider:
    return DbtIndexProvider(project_dir, GlossarySource(project_dir / DEFAULT_GLOSSARY_NAME, required=False))


def test_the_demo_glossary_loads_terms_synonyms_and_three_kinds_of_metric() -> None:
    glossary = load_glossary(DEMO_GLOSSARY)
    churned = glossary.find("churn")
    assert churned is not None and churned.name == "churned customer" and churned.models == ("dim_customers",)
    churn_rate = glossary.find("churn_rate")
    assert churn_rate is not None and churn_rate.sql and churn_rate.tables == ("shop.main.dim_customers",)
    assert glossary.find("sales").dbt_metric == "revenue"  # type: ignore[union-attr]
    refund_rate = glossary.find("return rate")
    assert refund_rate is not None and refund_rate.computation().endswith("on fct_orders")
    # Every name it uses exists in the demo project: linking strictly raises nothing.
    index = load_index(DEMO_PROJECT_DIR).with_glossary(glossary, strict=True)
    assert index.warnings == load_index(DEMO_PROJECT_DIR).warnings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metrics:\n  - name: churn_rate\n    description: Share of lapsed customers.\n",
            r"metrics\[0\] 'churn_rate': give exactly one of `sql`",
        ),
        (
            "terms:\n  - name: churn\n    defintion: Customers who left.\n",
            r"terms\[0\] 'churn', field 'defintion': Extra inputs are not permitted",
        ),
        (
            "terms:\n  - name: ok\n    definition: fine\n  - name: churn\n    synonyms: lapsed\n",
            r"terms\[1\] 'churn', field 'synonyms': Input should be a valid list; .*field 'definition': Field required",
        ),
        (
            "metrics:\n  - name: refund_rate\n    expression: avg(is_refunded)\n",
            r"metrics\[0\] 'refund_rate': `expression` needs `model`",
        ),
        ("terms: [\n", r"not valid YAML \(line 2, column 1\)"),
        ("- just\n- a list\n", r"must be a mapping with `terms:` and/or `metrics:`"),
        (
            "terms:\n  - {name: churn, definition: a}\nmetrics:\n  - {name: Churn, metric: revenue}\n",
            r"metrics\[0\] 'Churn' has the same name as terms\[0\]",
        ),
    ],
    ids=[
        "no-computation",
        "misspelt-field",
        "wrong-type-and-missing",
        "expression-without-model",
        "yaml",
        "list",
        "duplicate",
    ],
)
def test_a_bad_file_names_the_file_the_entry_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "team_glossary.yml", text)
    with pytest.raises(GlossaryError, match=expected) as raised:
        load_glossary(path)
    assert str(path) in raised.value.message


def test_an_unknown_dbt_metric_or_model_is_reported_by_name_at_start(project: Path) -> None:
    write(
        project / DEFAULT_GLOSSARY_NAME,
        "terms:\n  - {name: buyer, definition: Someone who ordered., models: [dim_customer]}\n"
        "metrics:\n  - {name: net_sales, metric: revnue}\n",
    )
    with pytest.raises(GlossaryError) as raised:
        demo_provider(project).current()
    message = raised.value.message
    assert DEFAULT_GLOSSARY_NAME in message
    assert (
        "metrics[0] 'net_sales' refers to dbt metric 'revnue', which the project does not define" in message
    )
    assert "its metrics: revenue, order_count" in message
    assert (
        "terms[0] 'buyer' names model 'dim_customer'" in message and "did you mean dim_customers" in message
    )


def test_a_named_glossary_file_must_exist(tmp_path: Path) -> None:
    source = GlossarySource(tmp_path / "nope.yml", required=True)
    with pytest.raises(GlossaryError, match=r"nope\.yml does not exist\. Fix BLUEPRINTDATA_GLOSSARY_FILE"):
        DbtIndexProvider(DEMO_PROJECT_DIR, source).current()


def test_a_question_with_a_glossary_term_finds_the_models_it_points_at() -> None:
    without = search_models(
        context_for(DbtIndexProvider(DEMO_PROJECT_DIR)),
        SearchModelsInput(query="what is our churn?", limit=8),
    )
    assert without.content.startswith("No models match")
    output = search_models(
        context_for(demo_provider()), SearchModelsInput(query="what is our churn?", limit=3)
    )
    lines = output.content.splitlines()
    assert lines[1].startswith("- dim_customers [model]")
    assert lines[3].startswith(
        "  glossary: churned customer: A customer who has ordered before but not in the 90"
    )
    assert "glossary: churned customer" in output.summary
    # A glossary metric on a dbt metric points at the metric and at the model it is built on.
    aov = search_models(
        context_for(demo_provider()), SearchModelsInput(query="what was the average basket?", limit=8)
    )
    assert "- fct_orders [model]" in aov.content and "- average_order_value [metric]" in aov.content
    assert (
        "glossary: aov: Net revenue divided by orders, in USD. dbt metric average_order_value." in aov.content
    )


def test_the_glossary_does_not_disturb_ordinary_searches() -> None:
    for question, expected in [
        ("revenue by day", "daily_revenue"),
        ("customers by country", "dim_customers"),
    ]:
        output = search_models(context_for(demo_provider()), SearchModelsInput(query=question, limit=3))
        assert output.content.splitlines()[1].startswith(f"- {expected} [model]"), output.content


def test_describe_a_glossary_metric_shows_its_sql() -> None:
    text = describe_model(context_for(demo_provider()), DescribeModelInput(name="churn_rate")).content
    assert text.startswith("Glossary metric churn_rate (Churn rate)")
    assert 'FROM "shop"."main"."dim_customers"' in text and "WHERE lifetime_orders > 0" in text
    assert text.splitlines()[-1] == "Models: dim_customers"


def test_the_glossary_reloads_when_the_file_changes(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = project / DEFAULT_GLOSSARY_NAME
    provider = demo_provider(project)
    first = provider.current()
    assert provider.current() is first  # unchanged files: the same index object
    assert first.glossary.find("gift buyer") is None
    write(
        path,
        path.read_text()
        + "  - name: gift_share\n    synonyms: [gift buyer]\n    description: Share of gift box lines.\n"
        "    expression: avg(case when category = 'Gift boxes' then 1.0 else 0.0 end)\n    model: fct_order_items\n",
    )
    reloaded = provider.current()
    assert reloaded.glossary.find("gift buyer") is not None
    assert reloaded.search("who is a gift buyer?", 1)[0].node.name == "fct_order_items"
    assert reloaded.nodes() == first.nodes()  # the manifest was not read again for a glossary edit
    write(path, "terms: [\n")
    assert provider.current().glossary.find("gift buyer") is not None  # a broken edit keeps the last good one
    assert "Keeping the previous glossary" in caplog.text and "not valid YAML" in caplog.text
    # Once running, an unknown metric name is a warning (in the log and the prompt), not an outage.
    write(path, "metrics:\n  - {name: net_sales, metric: revnue}\n  - {name: sales, metric: revenue}\n")
    current = provider.current()
    assert current.glossary.find("sales") is not None
    assert any("dbt metric 'revnue'" in warning for warning in current.warnings)
    assert "dbt metric 'revnue'" in current.overview().to_prompt_text()


def test_the_prompt_carries_a_bounded_glossary(
    fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    runtime = make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)
    fake_anthropic.enqueue(text_reply("Churn is 22%."))
    runtime.agent().handle(runtime.store.open_session(source="cli").id, "What is our churn?", EventList())
    system = "".join(block["text"] for block in fake_anthropic.requests[0].body["system"])
    assert "Business glossary (the team's own definitions; follow them):" in system
    assert "- churned customer (also: churn, churned, lapsed customer): A customer who has ordered" in system
    assert "- aov (also: basket size, average basket): Net revenue divided by orders" in system
    big = tmp_path / "big.yml"
    terms = "".join(f"  - {{name: term {n}, definition: {'A long definition. ' * 12}}}\n" for n in range(300))
    write(big, "terms:\n" + terms)
    text = load_glossary(big).prompt_text(2_000)
    assert len(text) <= 2_000 and "more (search_models shows them): term " in text.splitlines()[-1]


def test_cli_search_and_describe_use_the_glossary(demo_cli_env: dict[str, str]) -> None:
    result = run_cli("chat", "--json", env=demo_cli_env, stdin="/search churn\n/describe churn_rate\n")
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert [e["tool"] for e in finished] == ["search_models", "describe_model"]
    assert "dim_customers" in str(finished[0]["summary"]) and "churned customer" in str(
        finished[0]["summary"]
    )
    finals = [str(e["text"]) for e in events if e["type"] == "final"]
    assert "glossary: churned customer: A customer who has ordered before" in finals[0]
    assert finals[1].startswith("Glossary metric churn_rate")


def test_cli_names_a_bad_glossary_file_in_one_line(demo_cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = write(tmp_path / "glossary.yml", "metrics:\n  - name: net_sales\n    metric: revnue\n")
    result = run_cli("chat", "-m", "/help", env={**demo_cli_env, "BLUEPRINTDATA_GLOSSARY_FILE": str(bad)})
    assert result.returncode == 2
    stderr = " ".join(result.stderr.split())  # the terminal wraps long lines
    assert "metrics[0] 'net_sales' refers to dbt metric 'revnue'" in stderr and str(bad) in stderr
    assert "Traceback" not in result.stderr


# Metrics whose SQL could never run, each with what its one line must say.
_UNRUNNABLE = {
    "deletes": ("sql: DELETE FROM fct_orders", "DELETE is not a read-only query"),
    "two_statements": ("sql: SELECT 1; SELECT 2", "found 2 statements"),
    "reads_the_environment": ("sql: SELECT getenv('HOME')", "getenv() is not a function known to be free"),
    "reads_a_file": ("sql: SELECT * FROM read_text('/etc/passwd')", "read_text() is not a function"),
    "own_function": ("expression: my_udf(net_revenue)\n    model: fct_orders", "my_udf() is not a function"),
    "statement_in_expression": (
        "expression: 'count(*) FROM fct_orders; DROP TABLE fct_orders'\n    model: fct_orders",
        "Could not parse the SQL",
    ),
    "query_in_expression": (
        "expression: '1) AS v FROM dim_customers UNION ALL SELECT (1'\n    model: fct_orders",
        "its expression is not one SQL expression",
    ),
}


def _glossary_with_unrunnable_metrics(path: Path) -> Path:
    bad = "".join(f"  - name: {name}\n    {computation}\n" for name, (computation, _) in _UNRUNNABLE.items())
    return write(
        path,
        "terms:\n  - {name: buyer, definition: Someone who ordered., models: [dim_customers]}\n"
        "metrics:\n  - name: order_total\n    sql: SELECT sum(net_revenue) FROM fct_orders\n"
        f"{bad}  - name: refund_share\n    expression: avg(case when is_refunded then 1.0 else 0.0 end)\n"
        "    model: fct_orders\n",
    )


def test_metrics_that_could_never_run_are_left_out_at_load_in_one_line_each(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _glossary_with_unrunnable_metrics(project / DEFAULT_GLOSSARY_NAME)
    index = demo_provider(project).current()  # At start too: one bad metric does not stop the rest.
    kept = [entry.name for entry in index.glossary.entries]
    assert kept == ["buyer", "order_total", "refund_share"]
    refused = [warning for warning in index.warnings if "can never run" in warning]
    assert len(refused) == len(_UNRUNNABLE)
    for position, (name, (_, reason)) in enumerate(_UNRUNNABLE.items(), start=1):
        line = next(warning for warning in refused if f"'{name}'" in warning)
        assert line.startswith(
            f"glossary {path}: metrics[{position}] '{name}' can never run, so it is left out"
        )
        assert reason in line and "\n" not in line, line
    assert "BLUEPRINTDATA_ALLOWED_FUNCTIONS" in next(w for w in refused if "'own_function'" in w)
    assert "'deletes' can never run" in caplog.text  # logged as it is loaded


def test_functions_the_user_allows_are_allowed_in_glossary_metrics(project: Path) -> None:
    _glossary_with_unrunnable_metrics(project / DEFAULT_GLOSSARY_NAME)
    provider = DbtIndexProvider(
        project,
        GlossarySource(project / DEFAULT_GLOSSARY_NAME, required=False),
        allowed_functions=frozenset({"my_udf"}),
    )
    index = provider.current()
    assert index.glossary.find("own_function") is not None and index.glossary.find("deletes") is None


def test_cli_keeps_answering_with_an_unrunnable_metric_in_the_glossary(
    demo_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = _glossary_with_unrunnable_metrics(tmp_path / "glossary.yml")
    env = {**demo_cli_env, "BLUEPRINTDATA_GLOSSARY_FILE": str(path)}
    result = run_cli("-v", "chat", "--json", env=env, stdin="/describe order_total\n/describe deletes\n")
    assert result.returncode != 2 and "Traceback" not in result.stderr, result.stderr
    finals = [str(e["text"]) for e in events_of(result.stdout) if e["type"] == "final"]
    assert finals[0].startswith("Glossary metric order_total")
    assert "Glossary metric deletes" not in " ".join(finals)
    stderr = " ".join(result.stderr.split())
    assert f"{path}: metrics[1] 'deletes' can never run" in stderr
