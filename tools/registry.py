"""What a tool is, the context it runs in, and the registry that runs tools for the agent."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from tools.artifacts import ArtifactRef, ArtifactWriter
from tools.direct_command import DirectCommand
from tools.errors import ToolInputError
from tools.limits import ToolLimits
from tools.profiling.stored import StoredProfiles
from tools.results import ResultStore, ResultTable
from tools.warehouse.base import Warehouse

if TYPE_CHECKING:
    from tools.dbt.index import DbtIndex
    from tools.policy import ToolPolicy


@dataclass
class ToolContext:
    """Everything a tool may use. Built once per turn by the agent; tools never build these."""

    limits: ToolLimits
    warehouse_provider: Callable[[], Warehouse]
    dbt_provider: Callable[[], DbtIndex]
    results: ResultStore
    artifacts: ArtifactWriter
    session_id: str | None = None
    # Stored model profiles (row counts, column statistics); None where no store is wired, e.g. in some tests.
    profiles: StoredProfiles | None = None
    # The dbt project the runtime loaded (the demo's when none is configured); None in contexts built by hand.
    project_dir: Path | None = None
    # What the asker may read; None where nothing is restricted (the terminal without a policy file).
    policy: ToolPolicy | None = None

    @property
    def warehouse(self) -> Warehouse:
        # Connecting is deferred so that /search and /describe work while the warehouse is down.
        warehouse = self.warehouse_provider()
        if self.policy is None:
            return warehouse
        from tools.policy import (
            PolicedWarehouse,  # Here, not at the top: the policy package imports this one.
        )

        # The one seam: every tool's SQL reaches the warehouse through here, so every tool obeys the policy.
        return PolicedWarehouse(warehouse, self.policy)

    def result(self, result_id: str) -> ResultTable | None:
        """A kept result by id; under a policy, only one of this session (another asker's is not ours to read)."""
        table = self.results.get(result_id)
        if table is not None and self.policy is not None and table.session_id != self.session_id:
            return None
        return table

    @property
    def dbt(self) -> DbtIndex:
        # A provider, not a value: the index reloads when manifest.json changes.
        return self.dbt_provider()


class ToolOutput(BaseModel):
    """A tool's result, for the model (`content`) and for front ends (summary, table, artifact)."""

    content: str
    summary: str
    is_error: bool = False
    table: ResultTable | None = None
    artifact: ArtifactRef | None = None
    sql: str | None = None
    rows: int | None = None
    bytes_scanned: int | None = None


@dataclass(frozen=True)
class Tool:
    """One capability: a typed input model, a run function and a status line for front ends."""

    name: str
    description: str
    input_model: type[BaseModel]
    run: Callable[[ToolContext, Any], ToolOutput]
    status: Callable[[Any], str] = field(default=lambda _: "is working…")
    # The `/command` that runs this tool directly, if it has one.
    command: DirectCommand | None = None

    def anthropic_schema(self) -> dict[str, Any]:
        """The tool definition sent to Claude; the schema comes from the input model."""
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return {"name": self.name, "description": self.description, "input_schema": schema}


@dataclass
class ToolRun:
    """One executed tool call, with what it cost."""

    tool: str
    input: dict[str, Any]
    output: ToolOutput
    duration_ms: float


class ToolRegistry:
    """The tools the agent may call, by name."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        self._commands: dict[str, Tool] = {}
        for tool in tools:
            # A second tool of one name would silently replace the first in what the model is offered.
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}: tool names must be unique")
            self._tools[tool.name] = tool
            if tool.command is not None:
                if tool.command.name in self._commands:
                    raise ValueError(f"two tools offer the command /{tool.command.name}")
                self._commands[tool.command.name] = tool
        # Built once: the schemas never change while the process runs, and every model call sends them.
        self._schemas = [tool.anthropic_schema() for tool in self._tools.values()]

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def for_command(self, name: str) -> Tool | None:
        """The tool a `/name` command runs."""
        return self._commands.get(name)

    def commands(self) -> list[DirectCommand]:
        """Every direct command, in tool order."""
        return [tool.command for tool in self._commands.values() if tool.command is not None]

    def anthropic_schemas(self) -> list[dict[str, Any]]:
        """The tool definitions Claude sees; callers copy before changing them."""
        return self._schemas

    def status_line(self, name: str, raw_input: dict[str, Any]) -> str:
        tool = self._tools.get(name)
        if tool is None:
            return "is working…"
        try:
            return tool.status(tool.input_model.model_validate(raw_input))
        except ValidationError:
            return "is working…"

    def execute(self, name: str, raw_input: dict[str, Any], context: ToolContext) -> ToolRun:
        """Run a tool; the model's mistakes come back as `is_error` outputs, never as exceptions.

        Every output's content fits the model's size budget (BLUEPRINTDATA_MAX_TOOL_RESULT_CHARS), with a note
        saying what was left out: one oversized listing must not fill the model's context.
        """
        started = time.perf_counter()
        output = self._execute(name, raw_input, context)
        output = within_budget(output, context.limits.max_tool_result_chars)
        return ToolRun(name, raw_input, output, (time.perf_counter() - started) * 1000)

    def _execute(self, name: str, raw_input: dict[str, Any], context: ToolContext) -> ToolOutput:
        tool = self._tools.get(name)
        if tool is None:
            message = f"Unknown tool {name!r}. Available tools: {', '.join(self._tools)}."
            return ToolOutput(content=message, summary=message, is_error=True)
        try:
            parsed = tool.input_model.model_validate(raw_input)
        except ValidationError as exc:
            message = f"Invalid input for {name}: {_describe_validation_error(exc)}"
            return ToolOutput(content=message, summary=message, is_error=True)
        try:
            return tool.run(context, parsed)
        except ToolInputError as exc:
            return ToolOutput(content=exc.message, summary=exc.message, is_error=True, sql=exc.sql)


def within_budget(output: ToolOutput, max_chars: int) -> ToolOutput:
    """The output with content and summary cut to size; the content's cut says how much was left out."""
    content, summary = output.content, output.summary
    if len(content) > max_chars:
        left_out = len(content) - max_chars
        content = (
            content[:max_chars] + f"\n[… {left_out:,} more characters of this result were left out (a size "
            "limit). Ask for less: fewer rows or columns, a narrower search, one model at a time.]"
        )
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1] + "…"
    if content is output.content and summary is output.summary:
        return output
    return output.model_copy(update={"content": content, "summary": summary})


# A summary is one line for people (a Slack status, a terminal line); it never needs to be long.
SUMMARY_MAX_CHARS = 1000


def _describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "input"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
