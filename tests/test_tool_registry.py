"""The tool registry: one name per tool, one tool per /command, schemas from the input models."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tools import run_query, search_models
from tools.catalog import default_tools
from tools.registry import ToolRegistry


def test_a_second_tool_with_a_taken_name_is_refused() -> None:
    impostor = replace(search_models.TOOL, description="does something else", command=None)
    with pytest.raises(ValueError, match="two tools are named 'search_models'"):
        ToolRegistry([search_models.TOOL, impostor])


def test_a_second_tool_offering_a_taken_command_is_refused() -> None:
    assert run_query.TOOL.command is not None
    clash = replace(search_models.TOOL, command=replace(run_query.TOOL.command, summary="clash"))
    with pytest.raises(ValueError, match="two tools offer the command /sql"):
        ToolRegistry([run_query.TOOL, clash])


def test_every_product_tool_is_registered_once_with_its_schema_and_command() -> None:
    registry = ToolRegistry(default_tools())
    schemas = registry.anthropic_schemas()
    assert [schema["name"] for schema in schemas] == registry.names()
    for tool, schema in zip(default_tools(), schemas, strict=True):
        assert schema["input_schema"]["properties"] == tool.input_model.model_json_schema()["properties"]
    commands = {command.name for command in registry.commands()}
    assert {"sql", "search", "describe", "chart", "anomalies", "quality", "metrics", "metric"} <= commands
    sql_tool = registry.for_command("sql")
    assert sql_tool is not None and sql_tool.name == "run_query"
