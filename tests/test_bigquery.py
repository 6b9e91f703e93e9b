"""BigQuery through the real google-cloud-bigquery client against a fake REST API (tests/fakes/bigquery_api.py).

Every query is dry-run first; above the byte cap nothing runs; jobs carry maximum_bytes_billed, labels and a
timeout; rows are read page by page; failures come back as one clear message naming what to do.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from responses import RequestsMock

from agent.events import EventList, ToolFinished
from agent.runtime import Runtime
from agent.settings import Settings
from agent.tool_config import tool_limits, warehouse_config
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.bigquery_api import ENDPOINT, MB, PROJECT, FakeBigQuery
from tools.errors import ToolInputError, WarehouseError
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.run_query import TOOL as RUN_QUERY
from tools.run_query import RunQueryInput, run_query
from tools.warehouse.bigquery_target import BigQueryTarget, bigquery_client, target_from_dbt
from tools.warehouse.bigquery_warehouse import BigQueryWarehouse
from tools.warehouse.factory import build_warehouse

ORDERS = f"`{PROJECT}.shop.orders`"
GB = 10**9
TOKEN_URI = "https://oauth2.fake/token"


@pytest.fixture
def fake() -> Iterator[FakeBigQuery]:
    """A fake BigQuery with shop.orders (2,500 rows, partitioned on order_date) and an unpartitioned shop.notes."""
    fake = FakeBigQuery(bytes_processed=120 * 10**6)
    fake.execute(
        "CREATE SCHEMA shop;"
        "CREATE TABLE shop.orders AS SELECT range AS id, range * 1.5 AS amount, "
        "DATE '2024-01-01' + CAST(range % 365 AS INTEGER) AS order_date FROM range(2500);"
        "CREATE TABLE shop.notes AS SELECT 1 AS id, 'hello' AS body"
    )
    fake.partition("shop.orders", "order_date")
    yield from serve(fake)


def serve(fake: FakeBigQuery) -> Iterator[FakeBigQuery]:
    """Serve the fake for one test, keeping its `responses` mock for `calls`."""
    with fake.serving() as mock:
        fake.mock = mock  # type: ignore[attr-defined]
        yield fake


def calls(fake: FakeBigQuery) -> RequestsMock:
    return fake.mock  # type: ignore[attr-defined, no-any-return]


def urls(fake: FakeBigQuery) -> list[str]:
    """Every URL the client called, in order."""
    return [str(call.request.url) for call in calls(fake).calls]


def inserted_jobs(fake: FakeBigQuery) -> list[dict[str, Any]]:
    """Bodies of every jobs.insert the client sent, dry runs included, in order."""
    bodies = []
    for call in calls(fake).calls:
        request = call.request
        if request.method == "POST" and str(request.url).split("?")[0].endswith("/jobs"):
            body = request.body or b"{}"
            bodies.append(json.loads(body if isinstance(body, bytes | str) else b"{}"))
    return bodies


def warehouse(max_bytes: int = 10 * GB, page_size: int = 1000) -> BigQueryWarehouse:
    target = BigQueryTarget(project=PROJECT, source="the test profile", dataset="shop", api_endpoint=ENDPOINT)
    return BigQueryWarehouse(target, max_bytes_scanned=max_bytes, page_size=page_size)


def test_a_query_is_dry_run_then_run_with_a_byte_cap_labels_timeout_and_cache(fake: FakeBigQuery) -> None:
    result = warehouse().execute_readonly(
        f"SELECT id, amount, order_date FROM {ORDERS} ORDER BY id",
        max_rows=100,
        timeout_seconds=20,
        session_id="slack:C1:1700000000.1",
    )
    assert len(result.rows) == 100 and result.truncated
    assert result.rows[0][0] == 0 and str(result.rows[1][2]) == "2024-01-02"
    assert [(c.name, c.type) for c in result.columns] == [
        ("id", "INTEGER"),
        ("amount", "NUMERIC"),
        ("order_date", "DATE"),
    ]
    assert result.bytes_scanned == 120 * 10**6 and result.bytes_billed == 115 * MB  # Billed in whole MB.

    dry, job = inserted_jobs(fake)
    assert dry["configuration"]["dryRun"] is True and "dryRun" not in job["configuration"]
    query = job["configuration"]["query"]
    assert query["maximumBytesBilled"] == str(10 * GB)
    assert query["useQueryCache"] is True and query["useLegacySql"] is False
    assert job["configuration"]["jobTimeoutMs"] == "20000"
    hashed = hashlib.sha256(b"slack:C1:1700000000.1").hexdigest()[:16]
    assert job["configuration"]["labels"] == {"app": "blueprintdata", "session": hashed}
    assert "slack:C1" not in json.dumps(job)  # The session id itself never leaves.
    assert fake.statements == [query["query"]] and query["query"].endswith("LIMIT 101")


def test_rows_are_read_page_by_page_and_stop_after_the_row_cap(fake: FakeBigQuery) -> None:
    result = warehouse(page_size=300).execute_readonly(
        f"SELECT id FROM {ORDERS} ORDER BY id", max_rows=1000, timeout_seconds=20
    )
    assert len(result.rows) == 1000 and result.truncated
    assert [row[0] for row in result.rows] == list(range(1000))
    pages = [url for url in urls(fake) if "/queries/" in url]
    assert len(pages) == 4  # 1,001 rows in pages of 300: never the 2,500 rows, never one big page.
    assert [re.findall(r"maxResults=(\d+)", url) for url in pages] == [["300"], ["300"], ["300"], ["101"]]
    assert sum("pageToken" in url for url in pages) == 3


def test_a_query_over_the_byte_cap_is_refused_and_no_job_is_sent(fake: FakeBigQuery) -> None:
    fake.bytes_processed = int(1.2 * 10**12)
    with pytest.raises(ToolInputError) as refused:
        warehouse().execute_readonly(f"SELECT * FROM {ORDERS}", max_rows=10, timeout_seconds=20)
    message = refused.value.message
    assert "would scan 1.2 TB; the limit is 10 GB" in message
    assert "BLUEPRINTDATA_MAX_BYTES_SCANNED" in message and "partition column order_date of orders" in message
    assert [job["configuration"].get("dryRun") for job in inserted_jobs(fake)] == [True]
    assert fake.statements == [] and fake.dry_runs[0].bytes_processed == int(1.2 * 10**12)


def test_the_refusal_advises_a_date_filter_when_no_partition_is_known(fake: FakeBigQuery) -> None:
    fake.bytes_processed = 50 * GB
    with pytest.raises(ToolInputError, match=r"scan 50 GB; the limit is 10 GB.*Filter on a date range"):
        warehouse().execute_readonly(f"SELECT * FROM `{PROJECT}.shop.notes`", max_rows=10, timeout_seconds=20)
    assert fake.statements == []


def test_the_profile_maximum_bytes_billed_lowers_the_cap(fake: FakeBigQuery) -> None:
    target = BigQueryTarget(
        project=PROJECT,
        source="the dbt profile x",
        dataset="shop",
        api_endpoint=ENDPOINT,
        maximum_bytes_billed=GB,
    )
    fake.bytes_processed = 2 * GB
    with pytest.raises(ToolInputError, match=r"limit is 1 GB \(maximum_bytes_billed in the dbt profile x\)"):
        BigQueryWarehouse(target, max_bytes_scanned=10 * GB).execute_readonly(
            "SELECT id FROM orders", max_rows=10, timeout_seconds=20
        )


def test_statements_bigquery_does_not_call_select_are_refused_by_the_dry_run(fake: FakeBigQuery) -> None:
    # The SQL guard refuses these first; this is the second, independent check, by BigQuery's own reading.
    with pytest.raises(ToolInputError, match=r"BigQuery reads this as a DELETE statement"):
        warehouse().execute_readonly("DELETE FROM shop.orders WHERE true", max_rows=10, timeout_seconds=20)
    assert fake.statements == []


def test_a_job_still_running_at_the_time_limit_is_stopped_and_cancelled(fake: FakeBigQuery) -> None:
    fake.hang("slow_marker")
    with pytest.raises(ToolInputError, match=r"longer than 1 s and was stopped.*partition column"):
        warehouse().execute_readonly(
            f"SELECT id AS slow_marker FROM {ORDERS}", max_rows=10, timeout_seconds=1
        )
    assert len(fake.cancelled) == 1  # Cancelled, so it costs nothing more.


def test_a_job_bigquery_stops_at_its_job_timeout_says_the_same(fake: FakeBigQuery) -> None:
    fake.fail_jobs("slow_marker", "timeout", "Job execution was cancelled: Job timed out after 20 sec")
    with pytest.raises(ToolInputError, match=r"longer than 20 s and was stopped"):
        warehouse().execute_readonly(
            f"SELECT id AS slow_marker FROM {ORDERS}", max_rows=10, timeout_seconds=20
        )


def test_bad_sql_comes_back_to_the_model_with_bigquerys_message(fake: FakeBigQuery) -> None:
    with pytest.raises(ToolInputError, match=r"BigQuery rejected the query: .*revnue"):
        warehouse().execute_readonly(f"SELECT revnue FROM {ORDERS}", max_rows=10, timeout_seconds=20)
    assert fake.statements == []


def service_account_key() -> dict[str, str]:
    """A real (throwaway) service-account key, so google-auth signs and exchanges tokens as in production."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": f"reader@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": TOKEN_URI,
    }


@pytest.fixture
def https_fake() -> Iterator[FakeBigQuery]:
    """The fake on an https endpoint, where real credentials are used, and Google's token endpoint mocked."""
    fake = FakeBigQuery(endpoint="https://bigquery.fake")
    fake.execute("CREATE SCHEMA shop; CREATE TABLE shop.orders AS SELECT 1 AS id")
    yield from serve(fake)


def keyed_warehouse(endpoint: str) -> BigQueryWarehouse:
    target = BigQueryTarget(
        project=PROJECT,
        source="the dbt profile profiles.yml (profile a, target prod)",
        dataset="shop",
        method="service-account-json",
        keyfile_json=service_account_key(),
        api_endpoint=endpoint,
    )
    return BigQueryWarehouse(target, max_bytes_scanned=10 * GB)


def test_credentials_google_refuses_name_the_profile_and_the_fix(https_fake: FakeBigQuery) -> None:
    calls(https_fake).add(
        "POST",
        TOKEN_URI,
        json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
        status=400,
    )
    with pytest.raises(WarehouseError) as failure:
        keyed_warehouse(https_fake.endpoint).execute_readonly(
            "SELECT id FROM orders", max_rows=5, timeout_seconds=5
        )
    message = failure.value.message
    assert "BigQuery credentials could not be used" in message and "invalid_grant" in message
    assert "profiles.yml (profile a, target prod)" in message and "PRIVATE KEY" not in message
    assert https_fake.dry_runs == []


def test_an_auth_error_from_bigquery_names_the_profile_and_the_fix(https_fake: FakeBigQuery) -> None:
    calls(https_fake).add(
        "POST", TOKEN_URI, json={"access_token": "ya29.token", "expires_in": 3600, "token_type": "Bearer"}
    )
    for _ in range(4):  # google-auth refreshes the token and retries a 401 before giving up.
        https_fake.fail_next(401, "authError", "Request had invalid authentication credentials.")
    with pytest.raises(WarehouseError) as failure:
        keyed_warehouse(https_fake.endpoint).execute_readonly(
            "SELECT id FROM orders", max_rows=5, timeout_seconds=5
        )
    message = failure.value.message
    assert "BigQuery refused the credentials: Request had invalid authentication credentials" in message
    assert "gcloud auth application-default login" in message and "profile a, target prod" in message
    sent = [c.request for c in calls(https_fake).calls if "bigquery.fake" in str(c.request.url)]
    assert sent and sent[0].headers["Authorization"] == "Bearer ya29.token"


@pytest.mark.parametrize("reason", ["quotaExceeded", "rateLimitExceeded"])
def test_a_quota_error_says_to_wait_or_raise_the_quota(fake: FakeBigQuery, reason: str) -> None:
    for _ in range(5):  # rateLimitExceeded is retried until the time limit; every retry meets it again.
        fake.fail_next(
            403, reason, "Quota exceeded: Your project exceeded quota for concurrent queries.", on="query"
        )
    with pytest.raises(WarehouseError) as failure:
        warehouse().execute_readonly(f"SELECT id FROM {ORDERS}", max_rows=10, timeout_seconds=1)
    assert f"BigQuery quota exceeded ({reason})" in failure.value.message
    assert "raise the project's BigQuery quotas" in failure.value.message


def test_access_denied_is_a_warehouse_error_naming_the_roles(fake: FakeBigQuery) -> None:
    fake.fail_next(
        403, "accessDenied", "Access Denied: Project fake-project: User does not have bigquery.jobs.create"
    )
    with pytest.raises(WarehouseError, match=r"BigQuery Job User"):
        warehouse().execute_readonly(f"SELECT id FROM {ORDERS}", max_rows=10, timeout_seconds=20)


def test_estimate_bytes_is_a_dry_run_and_runs_nothing(fake: FakeBigQuery) -> None:
    fake.bytes_processed = lambda sql: 7 * GB if "amount" in sql else 1 * GB
    bigquery = warehouse()
    assert bigquery.estimate_bytes("SELECT amount FROM orders") == 7 * GB
    assert bigquery.estimate_bytes("SELECT id FROM orders") == 1 * GB
    assert fake.statements == [] and len(fake.dry_runs) == 2


def test_the_dbt_bigquery_profile_builds_the_connector(tmp_path: Path, fake: FakeBigQuery) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: p\nprofile: analytics\n")
    (project / "profiles.yml").write_text(
        "analytics:\n  target: prod\n  outputs:\n    prod:\n      type: bigquery\n      method: oauth\n"
        f"      project: {PROJECT}\n      dataset: shop\n      location: US\n      threads: 4\n"
    )
    settings = Settings.model_validate({"bigquery_api_endpoint": ENDPOINT}, by_name=True)
    built = build_warehouse(warehouse_config(settings), project)
    assert isinstance(built, BigQueryWarehouse) and built.dialect.name == "bigquery"
    # The profile's dataset is the default one: a bare table name works.
    assert built.execute_readonly(
        "SELECT count(*) AS n FROM orders", max_rows=5, timeout_seconds=20
    ).rows == [[2500]]


def test_a_bigquery_url_and_the_emulator_variable_build_the_connector(
    fake: FakeBigQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", ENDPOINT)
    settings = Settings.model_validate(
        {"warehouse_url": f"bigquery://{PROJECT}/shop?location=US"}, by_name=True
    )
    built = build_warehouse(warehouse_config(settings), None)
    assert isinstance(built, BigQueryWarehouse)
    assert built.execute_readonly("SELECT max(id) FROM orders", max_rows=5, timeout_seconds=20).rows == [
        [2499]
    ]


def test_profile_fields_are_read_like_dbt_and_problems_are_explained() -> None:
    target = target_from_dbt(
        {
            "type": "bigquery",
            "method": "service-account-json",
            "database": "analytics-prod",
            "schema": "marts",
            "location": "EU",
            "execution_project": "billing-proj",
            "maximum_bytes_billed": 5_000_000_000,
            "keyfile_json": {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----secret"},
            "_source": "profiles.yml (profile a, target b)",
        },
        api_endpoint=None,
    )
    assert (target.project, target.dataset, target.location, target.job_project) == (
        "analytics-prod",
        "marts",
        "EU",
        "billing-proj",
    )
    assert target.maximum_bytes_billed == 5 * GB and "secret" not in repr(target)
    with pytest.raises(
        WarehouseError, match=r"keyfile_json in the dbt profile .* is not a service-account key"
    ) as bad:
        bigquery_client(target)
    assert "secret" not in bad.value.message
    with pytest.raises(WarehouseError, match=r"needs keyfile"):
        target_from_dbt({"type": "bigquery", "method": "service-account", "project": "p"}, api_endpoint=None)
    with pytest.raises(WarehouseError, match=r"method 'oauth-secrets' .* use one of oauth"):
        target_from_dbt({"type": "bigquery", "method": "oauth-secrets", "project": "p"}, api_endpoint=None)
    with pytest.raises(WarehouseError, match=r"has no project"):
        target_from_dbt({"type": "bigquery", "dataset": "d"}, api_endpoint=None)


def test_missing_credentials_name_the_command_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # No gcloud login here.
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # Nor a metadata server to ask.
    with pytest.raises(WarehouseError, match=r"gcloud auth application-default login"):
        bigquery_client(BigQueryTarget(project="p", source="the dbt profile x"))
    keyed = BigQueryTarget(
        project="p", source="the dbt profile x", method="service-account", keyfile=tmp_path / "k.json"
    )
    with pytest.raises(WarehouseError, match=r"k.json named in the dbt profile x does not exist"):
        bigquery_client(keyed)


def tool_context(settings: Settings, bigquery: BigQueryWarehouse, session_id: str = "s-1") -> ToolContext:
    class NoSchema:
        def relations(self) -> list[object]:
            return []

        def known_tables(self) -> list[object]:
            return []

    return ToolContext(
        limits=tool_limits(settings),
        warehouse_provider=lambda: bigquery,
        dbt_provider=lambda: NoSchema(),  # type: ignore[arg-type, return-value]
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
        session_id=session_id,
    )


def test_run_query_on_bigquery_shows_bytes_and_reads_backticked_names(
    fake: FakeBigQuery, make_settings: Callable[..., Settings]
) -> None:
    sql = f"SELECT order_date, SUM(amount) AS revenue FROM {ORDERS} GROUP BY order_date ORDER BY order_date"
    assert RUN_QUERY.status(RunQueryInput(sql=sql)) == "is querying orders…"
    output = run_query(tool_context(make_settings(), warehouse()), RunQueryInput(sql=sql))
    assert output.summary.startswith("365 rows in ") and output.summary.endswith(" ms, scanned 120 MB")
    assert output.bytes_scanned == 120 * 10**6
    assert "scanned: 120 MB" in output.content and "2024-01-01" in output.content
    with pytest.raises(ToolInputError, match="Refused"):
        run_query(
            tool_context(make_settings(), warehouse()), RunQueryInput(sql=f"DELETE FROM {ORDERS} WHERE true")
        )
    assert len(fake.statements) == 1


def test_the_agent_is_told_bigquery_and_its_query_runs_there(
    fake: FakeBigQuery, fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]
) -> None:
    fake.execute(
        "CREATE TABLE main.daily_revenue AS SELECT DATE '2024-12-01' AS order_date, 1250.5 AS revenue"
    )
    runtime = make_runtime(
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        dbt_project_dir=DEMO_PROJECT_DIR,
        warehouse_url=f"bigquery://{PROJECT}/main",
        bigquery_api_endpoint=ENDPOINT,
    )
    sql = f"SELECT order_date, revenue FROM `{PROJECT}.main.daily_revenue` ORDER BY order_date"
    fake_anthropic.enqueue(tool_use_reply("run_query", {"sql": sql}), text_reply("Revenue was 1,250.50."))
    session = runtime.store.open_session(source="cli").id
    events = EventList()
    runtime.agent().handle(session, "Revenue on December 1?", events)

    system = json.dumps(fake_anthropic.requests[0].body["system"])
    assert "bigquery warehouse" in system and "backticks" in system
    finished = events.of_type(ToolFinished)[0]
    assert not finished.is_error and "scanned 120 MB" in finished.summary  # type: ignore[union-attr]
    assert "1250.5" in fake_anthropic.requests[1].tool_results()[0]["content"]
    assert len(fake.dry_runs) == 1 and len(fake.statements) == 1
    labels = fake.job_requests[0]["configuration"]["labels"]
    assert labels["session"] == hashlib.sha256(session.encode()).hexdigest()[:16]
