"""Direct commands (`/sql`, `/search`, ...): run one tool with no model involved, so they work without a key."""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent import user_messages
from agent.events import EventSink, StatusChanged, ToolFinished, ToolStarted, TurnFinished
from agent.tool_records import record_tool_run
from tools.errors import ToolInputError

if TYPE_CHECKING:
    from agent.runtime import Runtime


@dataclass(frozen=True)
class Command:
    """A direct command: which tool it runs and how its argument text becomes the tool's input."""

    name: str
    usage: str
    summary: str
    tool: str
    parse: Callable[[Runtime, str, str], dict[str, Any]]


def _sql(_: Runtime, __: str, argument: str) -> dict[str, Any]:
    return {"sql": _required(argument, "/sql SELECT ...")}


def _search(_: Runtime, __: str, argument: str) -> dict[str, Any]:
    return {"query": _required(argument, "/search revenue by day")}


def _describe(_: Runtime, __: str, argument: str) -> dict[str, Any]:
    return {"name": _required(argument, "/describe fct_orders")}


def _chart(runtime: Runtime, session_id: str, argument: str) -> dict[str, Any]:
    """`line x=day y=revenue,orders series=channel title="..."` charts the session's latest result."""
    latest = runtime.results.latest(session_id)
    if latest is None:
        raise ToolInputError(user_messages.NO_RESULT_TO_CHART)
    words = shlex.split(_required(argument, "/chart line x=order_date y=revenue"))
    options = dict(word.split("=", 1) for word in words[1:] if "=" in word)
    chart: dict[str, Any] = {"result_id": latest.result_id, "kind": words[0], **options}
    if "y" in chart:
        chart["y"] = [column for column in chart["y"].split(",") if column]
    chart.setdefault("title", f"{', '.join(chart.get('y', []))} by {chart.get('x', '')}".strip())
    return chart


def _anomalies(runtime: Runtime, session_id: str, argument: str) -> dict[str, Any]:
    """`metric=revenue [grain=day] [sensitivity=4]`, a bare metric name, or the session's latest result."""
    words = shlex.split(argument)
    options = dict(word.split("=", 1) for word in words if "=" in word)
    bare = [word for word in words if "=" not in word]
    aliases = {"time": "time_column", "value": "value_column"}
    checked: dict[str, Any] = {aliases.get(key, key): value for key, value in options.items()}
    if bare:
        checked.setdefault("metric", bare[0])
    if "metric" not in checked:
        latest = runtime.results.latest(session_id)
        if latest is None:
            raise ToolInputError(user_messages.NO_SERIES_TO_CHECK)
        checked["result_id"] = latest.result_id
    return checked


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in [
        Command("sql", "/sql SELECT ...", "run a read-only query", "run_query", _sql),
        Command("search", "/search words", "find models for a question", "search_models", _search),
        Command(
            "describe",
            "/describe name",
            "a model (columns, tests, keys, lineage, profile), metric or saved query",
            "describe_model",
            _describe,
        ),
        Command(
            "chart",
            "/chart line x=col y=col[,col] [series=col] [title=...]",
            "chart the latest result (bar, line, area, scatter, pie)",
            "make_chart",
            _chart,
        ),
        Command(
            "anomalies",
            "/anomalies [metric] [grain=day|hour] [sensitivity=4]",
            "anomalies in a dbt metric, or in the latest result (time, value)",
            "detect_anomalies",
            _anomalies,
        ),
        Command(
            "quality",
            "/quality model",
            "check a model's declared tests, freshness and row count",
            "check_data_quality",
            lambda _, __, argument: {"model": _required(argument, "/quality fct_orders")},
        ),
    ]
}


def help_text(runtime: Runtime) -> str:
    """The list of commands this runtime offers."""
    lines = ["Direct commands (no API key needed):"]
    for command in COMMANDS.values():
        if runtime.registry.get(command.tool) is not None:
            lines.append(f"  {command.usage:<55} {command.summary}")
    lines.append(f"  {'/help':<55} this list")
    lines.append("Anything else is a question for the assistant.")
    return "\n".join(lines)


def run_command(runtime: Runtime, session_id: str, text: str, sink: EventSink) -> tuple[str, bool]:
    """Run one direct command, emitting the same events a model-driven tool call would; (answer, ok)."""
    name, _, argument = text.lstrip("/").partition(" ")
    name = name.lower()
    if name in {"help", "?"}:
        answer = help_text(runtime)
        sink(TurnFinished(session_id=session_id, text=answer))
        return answer, True
    command = COMMANDS.get(name)
    if command is None or runtime.registry.get(command.tool) is None:
        answer = user_messages.UNKNOWN_COMMAND.format(name=name) + "\n\n" + help_text(runtime)
        sink(TurnFinished(session_id=session_id, text=answer))
        return answer, False
    call_id = f"cmd_{uuid.uuid4().hex[:10]}"
    try:
        tool_input = command.parse(runtime, session_id, argument.strip())
    except (ToolInputError, ValueError) as exc:
        answer = str(exc) if not isinstance(exc, ToolInputError) else exc.message
        sink(TurnFinished(session_id=session_id, text=f"{answer}\nUsage: {command.usage}"))
        return answer, False
    registry = runtime.registry
    sink(StatusChanged(session_id=session_id, status=registry.status_line(command.tool, tool_input)))
    sink(ToolStarted(session_id=session_id, call_id=call_id, tool=command.tool, input=tool_input))
    run = registry.execute(command.tool, tool_input, runtime.tool_context(session_id))
    record_tool_run(runtime.store, session_id, call_id, run)
    sink(ToolFinished.from_run(session_id, call_id, run))
    output = run.output
    # Tables and charts are rendered from ToolFinished; text-only tools answer with their full text.
    answer = output.summary if (output.table or output.artifact) and not output.is_error else output.content
    sink(TurnFinished(session_id=session_id, text=answer))
    return answer, not output.is_error


def _required(argument: str, example: str) -> str:
    if not argument:
        raise ValueError(f"This command needs an argument, for example: {example}")
    return argument
