"""`blueprintdata usage [--by user|channel] [--since 7d]` and `blueprintdata audit [--since] [--user] [--channel]
[--format table|csv|json]`: what was asked, by whom, what it cost."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from agent.clock import utc_now
from agent.governance.audit import AuditLog, AuditRecord
from bot.cli.exits import fail, runtime_or_exit, settings_or_exit
from tools.byte_sizes import human_bytes

console = Console()
_SPAN = re.compile(r"^(\d+)\s*([hdw])$")

SinceOption = Annotated[
    str | None, typer.Option("--since", help="How far back: 24h, 7d, 4w, or a date (2026-12-01).")
]
DemoOption = Annotated[bool, typer.Option("--demo", help="Use the bundled demo project.")]


def register_governance_commands(app: typer.Typer) -> None:
    """Add `usage` and `audit` to the `blueprintdata` command."""
    app.command("usage")(usage)
    app.command("audit")(audit)


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """A start time from `24h`, `7d`, `4w` or an ISO date; None for everything."""
    if not text:
        return None
    span = _SPAN.match(text.strip().lower())
    if span:
        unit = {"h": "hours", "d": "days", "w": "weeks"}[span.group(2)]
        return now - timedelta(**{unit: int(span.group(1))})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise fail(f"--since {text!r}: use 24h, 7d, 4w or a date such as 2026-12-01.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _log(demo: bool) -> AuditLog:
    return runtime_or_exit(settings_or_exit(demo=demo)).governance.audit


def usage(
    by: Annotated[str, typer.Option("--by", help="user or channel.")] = "user",
    since: SinceOption = None,
    demo: DemoOption = False,
) -> None:
    """Questions, refusals, model cost and bytes scanned per user or channel."""
    if by not in {"user", "channel"}:
        raise fail("--by must be user or channel.")
    grouping: Literal["user", "channel"] = "user" if by == "user" else "channel"
    lines = _log(demo).usage(by=grouping, since=parse_since(since, utc_now()))
    table = Table(title=f"Usage by {by}" + (f" since {since}" if since else ""))
    for heading in (by, "questions", "refused", "cost (USD)", "scanned", "tokens"):
        table.add_column(heading, justify="left" if heading == by else "right")
    for line in lines:
        table.add_row(
            line.who, str(line.questions), str(line.refused), f"{line.cost_usd:,.4f}",
            human_bytes(line.bytes_scanned), f"{line.tokens:,}",
        )  # fmt: skip
    console.print(table if lines else "Nothing recorded yet.")


def audit(
    since: SinceOption = None,
    user: Annotated[str | None, typer.Option("--user", help="A Slack user id or email.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="A Slack channel id.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 1000,
    demo: DemoOption = False,
) -> None:
    """Every recorded question: who, where, outcome, tools and SQL, bytes, rows, tokens, cost, policy decisions."""
    if output not in {"table", "csv", "json"}:
        raise fail("--format must be table, csv or json.")
    records = _log(demo).entries(since=parse_since(since, utc_now()), user=user, channel=channel, limit=limit)
    if output == "json":
        print(json.dumps([_plain(record) for record in records], indent=2, default=str))
    elif output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(AuditRecord.__dataclass_fields__))
        writer.writeheader()
        for record in records:
            row = _plain(record)
            writer.writerow(
                {**row, "tools": json.dumps(row["tools"]), "decisions": json.dumps(row["decisions"])}
            )
    else:
        console.print(_table(records) if records else "Nothing recorded yet.")


def _plain(record: AuditRecord) -> dict[str, object]:
    row = dataclasses.asdict(record)
    row["created_at"] = record.created_at.isoformat()
    return row


def _table(records: list[AuditRecord]) -> Table:
    table = Table()
    for heading in ("when (UTC)", "who", "where", "outcome", "question", "tools", "cost (USD)", "scanned"):
        table.add_column(heading)
    for record in records:
        tools = ", ".join(
            tool["tool"] + (" (error)" if tool.get("is_error") else "") for tool in record.tools
        )
        table.add_row(
            f"{record.created_at:%Y-%m-%d %H:%M}", record.email or record.user_id or record.principal_kind,
            record.channel_id or "", record.outcome, record.question[:80], tools or "-",
            f"{record.cost_usd:,.4f}", human_bytes(record.bytes_scanned),
        )  # fmt: skip
    return table
