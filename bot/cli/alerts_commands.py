"""`blueprintdata alerts list`, `alerts run [NAME] [--dry-run]`, `alerts test NAME [--since 90d]`, `alerts unmute NAME`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent.clock import utc_now
from agent.redaction import redact
from agent.runtime import Runtime
from bot.cli.exits import errors, runtime_or_exit, settings_or_exit
from bot.cli.exits import fail as _fail
from bot.cli.terminal_text import safe_text
from tools.errors import BlueprintError

if TYPE_CHECKING:
    # The scheduler and alert machinery load when an alerts command runs, not with every CLI start.
    from agent.alerts.definitions import AlertDefinition
    from agent.alerts.notices import AlertNotifier
    from agent.alerts.replay import Replay
    from bot.alerts.configured import ConfiguredAlerts

alerts_app = typer.Typer(help="Scheduled anomaly alerts: list them, run them now.", no_args_is_help=True)

console = Console()


def _no_alerts_file() -> str:
    from agent.alerts.loading import DEFAULT_FILE_NAME

    return (
        f"No alerts file: create {DEFAULT_FILE_NAME} in your dbt project directory, or point "
        "BLUEPRINTDATA_ALERTS_FILE at one (README: Scheduled anomaly alerts)."
    )


def _runtime(demo: bool) -> Runtime:
    settings = settings_or_exit(demo=demo)
    if demo:
        settings = settings.model_copy(update={"alerts_file": None})  # the demo project's own alerts
    return runtime_or_exit(settings)


def _show_problems(configured: ConfiguredAlerts) -> None:
    for problem in configured.loaded.problems:
        errors.print(safe_text(f"Skipped {problem}", style="yellow"))


DemoOption = Annotated[bool, typer.Option("--demo", help="Use the bundled demo project and its alerts.")]


@alerts_app.command("list")
def list_alerts(demo: DemoOption = False) -> None:
    """List the alerts, when they run and how their last run went; problems in the file are shown too."""
    from bot.alerts.configured import load_configured_alerts

    runtime = _runtime(demo)
    try:
        configured = load_configured_alerts(runtime)
        if configured.loaded.path is None:
            console.print(_no_alerts_file())
            return
        console.print(f"Alerts from {configured.loaded.path}")
        table = Table("name", "watches", "schedule", "channel", "last run", "next run", header_style="bold")
        for status in configured.statuses():
            cells = (
                status.name,
                status.watches,
                status.schedule,
                status.channel,
                status.last_run,
                status.next_run,
            )
            table.add_row(*(safe_text(redact(cell)) for cell in cells))
        console.print(table)
        _show_problems(configured)
    finally:
        runtime.close()
    if configured.loaded.problems:
        raise typer.Exit(1)


@alerts_app.command("run")
def run_alerts(
    name: Annotated[str | None, typer.Argument(help="The alert to run; all of them when left out.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be posted and save the chart; post nothing.")
    ] = False,
    demo: DemoOption = False,
) -> None:
    """Run alerts now: post anomalies to Slack (needs SLACK_BOT_TOKEN), or only show them with --dry-run."""
    from bot.alerts.configured import load_configured_alerts

    runtime = _runtime(demo)
    try:
        configured = load_configured_alerts(runtime, None if dry_run else _slack_notifier(runtime))
        _show_problems(configured)
        chosen = _chosen(configured, name)
        ok = all(
            [_dry_run(runtime, configured, alert) if dry_run else _run(configured, alert) for alert in chosen]
        )
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


_SINCE = re.compile(r"^(\d+)\s*([dh])$")


@alerts_app.command("test")
def test_alert(
    name: Annotated[str, typer.Argument(help="The alert to try.")],
    since: Annotated[
        str, typer.Option("--since", help="How far back from its latest data to replay, e.g. 90d or 48h.")
    ] = "90d",
    demo: DemoOption = False,
) -> None:
    """Replay an alert's history: the incidents it would have opened (and resolved), with a chart; posts nothing."""
    from agent.alerts.replay import periods_in, replay, replay_span
    from agent.alerts.runner import render_chart

    match = _SINCE.match(since.strip())
    if match is None:
        raise _fail(f"--since {since!r}: write a number of days or hours, e.g. 90d or 48h")
    span = (
        timedelta(days=int(match.group(1))) if match.group(2) == "d" else timedelta(hours=int(match.group(1)))
    )
    from bot.alerts.configured import load_configured_alerts

    runtime = _runtime(demo)
    try:
        configured = load_configured_alerts(runtime)
        [alert] = _chosen(configured, name)
        widened = replay_span(alert, periods_in(alert, span))
        try:
            evaluation = configured.runner.evaluate(widened)
        except BlueprintError as exc:
            raise _fail(f"{alert.name}: {exc.message}") from None
        start = evaluation.detection.timestamps[-1] - span
        result = replay(evaluation, start)
        chart = runtime.artifacts.save(
            session_id=None,
            kind="chart",
            title=f"Alert {alert.name} replayed",
            filename=f"alert-{alert.name}-replay.png",
            mime_type="image/png",
            data=render_chart(evaluation, last_points=result.points),
        )
    finally:
        runtime.close()
    _show_replay(result)
    console.print(f"chart: {chart.path}", soft_wrap=True)


def _show_replay(result: Replay) -> None:
    alert = result.alert
    console.print(
        f"{alert.name}: {result.points} points replayed since {result.since:%Y-%m-%d}: "
        f"{result.messages} message(s) and {result.thread_notes} thread note(s) would have been posted.",
        soft_wrap=True,
    )
    if not result.incidents:
        return
    table = Table("start", "end", "anomalies", "worst", "resolved", header_style="bold")
    for incident in result.incidents:
        resolved = f"{incident.resolved_at:%Y-%m-%d %H:%M}" if incident.resolved_at else "still open"
        table.add_row(
            f"{incident.start:%Y-%m-%d %H:%M}",
            f"{incident.last_anomaly:%Y-%m-%d %H:%M}",
            str(incident.anomalies),
            incident.worst.explain(alert.display_metric()),
            resolved,
        )
    console.print(table)


@alerts_app.command("unmute")
def unmute_alert(
    name: Annotated[str, typer.Argument(help="The alert muted from Slack.")], demo: DemoOption = False
) -> None:
    """Let an alert muted with its "Mute this alert" button run again."""
    from bot.alerts.configured import load_configured_alerts

    runtime = _runtime(demo)
    try:
        configured = load_configured_alerts(runtime)
        [alert] = _chosen(configured, name)
        configured.runner.incidents.set_muted(alert.name, None)
    finally:
        runtime.close()
    console.print(f"{alert.name}: unmuted; it runs on its schedule again.")


def _chosen(configured: ConfiguredAlerts, name: str | None) -> list[AlertDefinition]:
    loaded = configured.loaded
    if loaded.path is None:
        raise _fail(_no_alerts_file())
    if name is None:
        if not loaded.alerts:
            raise _fail(f"No alert in {loaded.path} could be loaded (see above).")
        return loaded.alerts
    alert = loaded.find(name)
    if alert is None:
        names = ", ".join(a.name for a in loaded.alerts) or "none"
        raise _fail(f"No alert named {name!r} was loaded from {loaded.path}; alerts: {names}.")
    return [alert]


def _dry_run(runtime: Runtime, configured: ConfiguredAlerts, alert: AlertDefinition) -> bool:
    from bot.alerts.rendering import notice_text

    try:
        preview = configured.runner.preview(alert)
    except BlueprintError as exc:
        console.print(safe_text(f"{alert.name}: failed: {redact(exc.message)}", style="red"))
        return False
    chart = runtime.artifacts.save(
        session_id=None,
        kind="chart",
        title=f"Alert {alert.name}",
        filename=f"alert-{alert.name}.png",
        mime_type="image/png",
        data=preview.chart_png,
    )
    if preview.notice is None:
        console.print(f"{alert.name}: no anomaly. {preview.evaluation.latest_summary()}", soft_wrap=True)
    else:
        console.print(Text(f"{alert.name}: would post to {alert.channel}:", style="bold"))
        console.print(Text(notice_text(preview.notice)), soft_wrap=True)
    console.print(f"chart: {chart.path}", soft_wrap=True)
    return True


def _run(configured: ConfiguredAlerts, alert: AlertDefinition) -> bool:
    outcome = configured.runner.run(alert, utc_now(), "manual")
    style = "red" if outcome.status == "failed" else ""
    console.print(safe_text(redact(outcome.message), style=style), soft_wrap=True)
    return outcome.status != "failed"


def _slack_notifier(runtime: Runtime) -> AlertNotifier:
    from bot.alerts.posting import SlackAlertNotifier  # Slack libraries load only when posting.
    from bot.slack.web_client import build_web_client

    try:
        return SlackAlertNotifier(build_web_client(runtime.settings), runtime.sessions)
    except BlueprintError as exc:
        raise _fail(f"{exc.message} (or use --dry-run to post nothing)") from None
