"""How a CLI command stops on our own errors (config, outages): one red line on stderr and an exit code."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from agent.redaction import redact, register_settings_secrets
from agent.runtime import Runtime, build_runtime
from agent.settings import Settings, load_settings
from bot.cli.terminal_text import safe_text
from tools.errors import BlueprintError

errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error (secrets masked); the caller raises the returned Exit."""
    errors.print(safe_text(f"Error: {redact(message)}", style="bold red"), soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit(demo: bool = False) -> Settings:
    """The settings; with `demo`, pointed at the bundled demo project and warehouse instead."""
    try:
        settings = load_settings()
    except BlueprintError as exc:
        raise fail(exc.message) from None
    register_settings_secrets(settings)  # Masked by value wherever they appear from now on.
    if demo:
        settings = settings.model_copy(update={"dbt_project_dir": None, "warehouse_url": None})
    return settings


def runtime_or_exit(settings: Settings) -> Runtime:
    """The runtime; a start-up fault (store, project, files) is one line and exit code 2, not a traceback."""
    try:
        return build_runtime(settings)
    except BlueprintError as exc:
        raise fail(exc.message) from None
    except (OSError, SQLAlchemyError) as exc:  # e.g. a store directory we may not create
        raise fail(f"Cannot start: {exc}") from None
