"""`blueprintdata init` and `blueprintdata sync`: profile the dbt project's models in the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from agent.runtime import Runtime, check_project
from bot.cli.exits import fail as _fail
from bot.cli.exits import runtime_or_exit as _runtime
from bot.cli.exits import settings_or_exit as _settings
from bot.cli.terminal_text import safe_text
from tools.byte_sizes import human_bytes
from tools.errors import BlueprintError, ToolInputError
from tools.profiling.runner import ProfileOptions, ProfileProgress, SyncSummary, sync_profiles
from tools.profiling.selection import SelectionError

console = Console()

USE_THIS_PROJECT = (
    "To chat about this project, set BLUEPRINTDATA_DBT_PROJECT_DIR={path} (in the environment or .env)."
)


def register_profiling_commands(app: typer.Typer) -> None:
    """Add `init` and `sync` to the `blueprintdata` command."""
    app.command("init")(init)
    app.command("sync")(sync)


def init(
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project-dir",
            help="The dbt project; default: BLUEPRINTDATA_DBT_PROJECT_DIR, else the current directory.",
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled demo project and data.")] = False,
) -> None:
    """First run: check the dbt project and the warehouse connection, then profile every model."""
    settings = _settings()
    configured = settings.dbt_project_dir
    if demo:
        settings = settings.model_copy(update={"dbt_project_dir": None, "warehouse_url": None})
    else:
        chosen = (project_dir or settings.dbt_project_dir or Path.cwd()).expanduser().resolve()
        settings = settings.model_copy(update={"dbt_project_dir": chosen})
        # Both checks come before anything is written: a failed init leaves no database and no files.
        try:
            check_project(settings, chosen)
        except BlueprintError as exc:
            raise _fail(exc.message) from None
    runtime = _runtime(settings)
    try:
        where = "the demo shop project" if runtime.is_demo else str(runtime.project_dir)
        console.print(
            Text.assemble(("Project ", "bold"), f"{where}: dbt artifacts and warehouse connection OK.")
        )
        for warning in runtime.index().warnings:  # Parts of the artifacts left out, an unknown schema version
            console.print(safe_text(f"Note: {warning}", style="yellow"), soft_wrap=True)
        summary = _profile(runtime, select=None, full=False)
    finally:
        runtime.close()
    if not demo and (configured is None or configured.expanduser().resolve() != runtime.project_dir):
        console.print(Text(USE_THIS_PROJECT.format(path=runtime.project_dir), style="yellow"))
    raise typer.Exit(1 if summary.failed else 0)


def sync(
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="dbt-style selection: names (stg_*), tag:NAME, path:models/marts, source:NAME, +parents, "
            "children+; several space-separated or repeated (-s a -s b) are a union.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Profile every selected model, changed or not.")
    ] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled demo project and data.")] = False,
) -> None:
    """Profile the models whose code or warehouse columns changed since the last sync."""
    runtime = _runtime(_settings(demo=demo))
    try:
        summary = _profile(runtime, select=" ".join(select) if select else None, full=full)
    finally:
        runtime.close()
    raise typer.Exit(1 if summary.failed else 0)


def _profile(runtime: Runtime, *, select: str | None, full: bool) -> SyncSummary:
    settings = runtime.settings
    options = ProfileOptions(
        sample_rows=settings.profile_sample_rows,
        timeout_seconds=settings.query_timeout_seconds,
        max_bytes_scanned=int(settings.max_bytes_scanned),
        full=full,
    )
    progress = Progress(
        TextColumn("Profiling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # A bar in a log file or pipe is noise; the summary says it all.
    )
    task = progress.add_task("", total=None)

    def started(total: int) -> None:
        progress.update(task, total=total)

    def advanced(step: ProfileProgress) -> None:
        marker = "" if step.outcome == "profiled" else " (failed)"
        progress.update(task, completed=step.done, description=f"{step.name}{marker}")

    try:
        with progress:
            summary = sync_profiles(
                runtime.index(),
                runtime.warehouse(),
                runtime.profiles,
                options,
                select=select,
                on_start=started,
                on_progress=advanced,
            )
    except (SelectionError, BlueprintError, ToolInputError) as exc:
        raise _fail(str(getattr(exc, "message", exc))) from None
    _print_summary(summary)
    return summary


def _print_summary(summary: SyncSummary) -> None:
    unchanged = sum(1 for reason in summary.skipped.values() if reason == "unchanged")
    not_built = len(summary.skipped) - unchanged
    attempted = len(summary.profiled) + len(summary.failed)
    per_model = summary.profile_queries / attempted if attempted else 0.0
    console.print(
        Text.assemble(
            ("Profiled ", "bold"),
            f"{_count(len(summary.profiled), 'model')} · skipped {len(summary.skipped)} "
            f"({unchanged} unchanged, {not_built} not in the warehouse) · failed {len(summary.failed)}",
        )
    )
    scanned = (
        f"{human_bytes(summary.bytes_scanned)} scanned" if summary.bytes_reported else "bytes not reported"
    )
    dry_runs = f", {summary.dry_runs} dry runs" if summary.dry_runs else ""
    console.print(
        f"{summary.queries} queries ({summary.profile_queries} profile, {per_model:.1f} per model; "
        f"{_count(summary.metadata_queries, 'column listing')}{dry_runs}) · {scanned} · {summary.seconds:.1f} s"
    )
    for name, reason in summary.skipped.items():
        if reason != "unchanged":
            console.print(Text(f"  skipped {name}: {reason}", style="yellow"))
    for name, error in summary.failed.items():
        console.print(Text(f"  failed {name}: {error}", style="red"))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
