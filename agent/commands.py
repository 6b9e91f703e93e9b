"""Direct commands (`/sql`, `/search`, ...): run one tool with no model involved, so they work without a key.

Each tool declares its own command (tools/direct_command.py); this module only dispatches and reports.
"""

from __future__ import annotations

import uuid

from agent import user_messages
from agent.events import EventSink, StatusChanged, ToolFinished, ToolStarted, TurnFinished
from agent.store.conversations import ConversationStore
from agent.tool_records import record_tool_run
from tools.errors import ToolInputError
from tools.registry import ToolContext, ToolRegistry


def is_direct_command(text: str) -> bool:
    """Whether a message is a direct command (`/sql ...`): it runs as that command wherever it is typed."""
    return text.lstrip().startswith("/")


def help_text(registry: ToolRegistry) -> str:
    """The list of commands the registry's tools offer."""
    lines = ["Direct commands (no API key needed):"]
    lines.extend(f"  {command.usage:<55} {command.summary}" for command in registry.commands())
    lines.append(f"  {'/usage':<55} what you (and this channel) spent today and this month")
    lines.append(f"  {'/help':<55} this list")
    lines.append("Anything else is a question for the assistant.")
    return "\n".join(lines)


def run_command(
    registry: ToolRegistry, store: ConversationStore, context: ToolContext, text: str, sink: EventSink
) -> tuple[str, bool]:
    """Run one direct command, emitting the same events a model-driven tool call would; (answer, ok)."""
    session_id = context.session_id or ""
    name, _, argument = text.lstrip("/").partition(" ")
    name = name.lower()
    if name in {"help", "?"}:
        answer = help_text(registry)
        sink(TurnFinished(session_id=session_id, text=answer))
        return answer, True
    tool = registry.for_command(name)
    if tool is None or tool.command is None:
        answer = user_messages.UNKNOWN_COMMAND.format(name=name) + "\n\n" + help_text(registry)
        sink(TurnFinished(session_id=session_id, text=answer))
        return answer, False
    call_id = f"cmd_{uuid.uuid4().hex[:10]}"
    try:
        tool_input = tool.command.parse(context, argument.strip())
    except (ToolInputError, ValueError) as exc:
        answer = exc.message if isinstance(exc, ToolInputError) else str(exc)
        sink(TurnFinished(session_id=session_id, text=f"{answer}\nUsage: {tool.command.usage}"))
        return answer, False
    sink(StatusChanged(session_id=session_id, status=registry.status_line(tool.name, tool_input)))
    sink(ToolStarted(session_id=session_id, call_id=call_id, tool=tool.name, input=tool_input))
    run = registry.execute(tool.name, tool_input, context)
    record_tool_run(store, session_id, call_id, run)
    sink(ToolFinished.from_run(session_id, call_id, run))
    output = run.output
    # Tables and charts are rendered from ToolFinished; text-only tools answer with their full text.
    answer = output.summary if (output.table or output.artifact) and not output.is_error else output.content
    sink(TurnFinished(session_id=session_id, text=answer))
    return answer, not output.is_error
