"""How a CLI command stops on our own errors (config, outages): one red line on stderr and an exit code."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

from agent.runtime import Runtime, build_runtime
from agent.settings import Settings, load_settings
from tools.errors import BlueprintError

errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error; the caller raises the returned Exit."""
    errors.print(Text(f"Error: {message}", style="bold red"))
    return typer.Exit(code)


def settings_or_exit(demo: bool = False) -> Settings:
    """The settings; with `demo`, pointed at the bundled demo project and warehouse instead."""
    try:
        settings = load_settings()
    except BlueprintError as exc:
        raise fail(exc.message) from None
    if demo:
        settings = settings.model_copy(update={"dbt_project_dir": None, "warehouse_url": None})
    return settings


def runtime_or_exit(settings: Settings) -> Runtime:
    try:
        return build_runtime(settings)
    except BlueprintError as exc:
        raise fail(exc.message) from None
