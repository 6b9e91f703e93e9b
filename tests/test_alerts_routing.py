"""Owners and routing from dbt: the channel from the alert, the model's meta, its folder's config or the default;
owners, subscribers, the dbt group's owner and user groups mentioned (emails looked up once, in Slack)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from agent.runtime import Runtime
from bot.alerts.mentions import SlackMentions
from demo.load import DEMO_PROJECT_DIR, ensure_demo_warehouse
from tests.fakes.slack_api import FakeSlack
from tests.test_alerts import CHANNEL, MORNING, alerts_file, slack_alerts

FAILED_UNTIL_SEPT_3 = (
    "  - name: failed_payments\n    model: fct_orders\n    time_column: order_date\n    measure: count(*)\n"
    "    filters: [\"payment_status = 'failed'\", \"order_date <= date '2024-09-03'\"]\n"
)


def project_with_owners(tmp_path: Path) -> Path:
    """The demo dbt project, its marts folder and fct_orders given owners, as dbt writes them to the manifest."""
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    folder_meta = {"channel": "#marts-alerts", "subscribers": ["<!subteam^S0DATAENG>"]}
    config = (project / "dbt_project.yml").read_text()
    demo_meta = '      +meta:\n        owner: "@maya"\n'  # The demo's own folder meta, replaced.
    assert demo_meta in config
    (project / "dbt_project.yml").write_text(
        config.replace(demo_meta, f"      +meta: {json.dumps(folder_meta)}\n")
    )
    manifest_path = project / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    model_meta = {
        "owner": "maria@shop.example",
        "subscribers": ["U0SUBSCRIB", "@ops-oncall"],
        "channel": "#payments",
    }
    for node in manifest["nodes"].values():
        if node.get("original_file_path", "").startswith("models/marts/"):
            # dbt merges the folder's +meta into each model's meta; the model's own keys win.
            extra = model_meta if node["name"] == "fct_orders" else {}
            node["meta"] = node["config"]["meta"] = {**folder_meta, **extra}
    manifest["nodes"]["model.shop.fct_orders"]["group"] = "finance"
    manifest["groups"] = {
        "group.shop.finance": {
            "name": "finance",
            "resource_type": "group",
            "package_name": "shop",
            "path": "groups.yml",
            "original_file_path": "models/groups.yml",
            "unique_id": "group.shop.finance",
            "owner": {"name": "Finance lead", "email": "lead@shop.example"},
        }
    }
    manifest_path.write_text(json.dumps(manifest))
    return project


def test_channels_follow_the_alert_then_the_model_then_its_folder_then_the_default(
    make_runtime: Callable[..., Runtime], demo_data_dir: Path, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    path = alerts_file(
        tmp_path,
        FAILED_UNTIL_SEPT_3,
        "  - name: orders\n    model: daily_revenue\n    time_column: order_date\n    measure: sum(orders)\n",
        "  - name: own\n    model: fct_orders\n    time_column: order_date\n    measure: count(*)\n"
        "    channel: '#own'\n    owners: [U0OWNALERT]\n",
        "  - name: custom\n    sql: select order_date, sum(orders) from daily_revenue group by 1\n",
    )
    runtime = make_runtime(
        alerts_file=path,
        dbt_project_dir=project_with_owners(tmp_path),
        warehouse_url=f"duckdb:///{ensure_demo_warehouse(demo_data_dir)}",
    )
    loaded = slack_alerts(runtime, fake_slack).loaded

    assert loaded.problems == []
    assert {alert.name: alert.channel for alert in loaded.alerts} == {
        "failed_payments": "#payments",  # the model's meta
        "orders": "#marts-alerts",  # the folder's +meta in dbt_project.yml
        "own": "#own",  # the alert's own
        "custom": CHANNEL,  # nothing in dbt: the file's default
    }
    failed = loaded.find("failed_payments")
    assert failed is not None and failed.owners == [
        "maria@shop.example",
        "U0SUBSCRIB",
        "@ops-oncall",
        "lead@shop.example",
        "<!subteam^S0DATAENG>",
    ]
    assert loaded.find("own").owners[0] == "U0OWNALERT"  # type: ignore[union-attr]


def test_owners_are_mentioned_with_emails_looked_up_once(
    make_runtime: Callable[..., Runtime], demo_data_dir: Path, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    maria = fake_slack.add_user("maria@shop.example", "maria")
    lead = fake_slack.add_user("lead@shop.example", "lead")
    runtime = make_runtime(
        alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3),
        dbt_project_dir=project_with_owners(tmp_path),
        warehouse_url=f"duckdb:///{ensure_demo_warehouse(demo_data_dir)}",
    )
    configured = slack_alerts(runtime, fake_slack)
    [alert] = configured.loaded.alerts

    outcome = configured.runner.run(alert, MORNING, "schedule")
    configured.runner.run(alert, MORNING + timedelta(days=1), "schedule")
    incident = configured.runner.incidents.latest("failed_payments")
    assert incident is not None and incident.message_ts is not None
    configured.desk().act(incident.id, "ack", "U0ONCALL", MORNING)  # An edit renders the owners again.

    assert outcome.posted == ["anomaly"] and "posted to #payments" in outcome.message
    [post] = [m for m in fake_slack.messages("#payments") if m.thread_ts in (None, m.ts)]
    owners = f"*Owners:* <@{maria}> <@U0SUBSCRIB> @ops-oncall <@{lead}> <!subteam^S0DATAENG>"
    assert owners in post.text
    assert len(post.edits) == 1 and "Acknowledged by <@U0ONCALL>" in post.text
    looked_up = [call.args.get("email") for call in fake_slack.calls_to("users.lookupByEmail")]
    assert sorted(looked_up) == ["lead@shop.example", "maria@shop.example"]  # Cached after the first post.


def test_handles_are_found_in_the_member_list_read_page_by_page_once(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    for number in range(230):  # More than one page of users.list (200 a page).
        fake_slack.add_user(f"member{number}@shop.example", f"member{number}")
    jane = fake_slack.add_user("jane@shop.example", "jane.doe", display_name="Jane", real_name="Jane Doe")
    fake_slack.add_user("alex.k@shop.example", "alex.k", display_name="alex")
    fake_slack.add_user("alex.m@shop.example", "alex.m", display_name="Alex")
    mentions = SlackMentions(WebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url))

    with caplog.at_level(logging.WARNING, logger="bot.alerts.mentions"):
        first = mentions.mentions(["@jane", "@JANE.DOE", "@jane doe", "@alex", "@nobody"])
        again = mentions.mentions(["@Jane", "@alex", "@nobody", "jane@shop.example"])

    # By name, display name or real name, any case; one person once. Two people called alex: shown as written.
    assert first == [f"<@{jane}>", "@alex", "@nobody"]
    assert again == [f"<@{jane}>", "@alex", "@nobody"]
    pages = fake_slack.calls_to("users.list")
    assert len(pages) == 2 and all(call.args.get("limit") in (200, "200") for call in pages)
    assert not pages[0].args.get("cursor") and pages[1].args.get("cursor")
    unresolved = [record.getMessage() for record in caplog.records]
    assert unresolved == [
        "alert owner @alex matches 2 people in Slack; shown as written",
        "alert owner @nobody matches nobody in Slack; shown as written",
    ]


def test_the_demo_tags_its_marts_owners_by_handle(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    maya = fake_slack.add_user("maya@shop.example", "maya", real_name="Maya Patel")
    leo = fake_slack.add_user("leo@shop.example", "leo.b", display_name="Leo")
    configured = slack_alerts(
        make_runtime(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3)), fake_slack
    )
    [alert] = configured.loaded.alerts
    assert alert.owners == [
        "@leo",
        "@maya",
    ]  # From the demo's dbt meta: fct_orders' owner, then the folder's.

    assert configured.runner.run(alert, MORNING, "schedule").posted == ["anomaly"]

    [post] = [m for m in fake_slack.messages(CHANNEL) if m.thread_ts in (None, m.ts)]
    assert f"*Owners:* <@{leo}> <@{maya}>" in post.text
