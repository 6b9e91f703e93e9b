"""The `blueprintdata` command: chat in a terminal, list sessions, migrate the database."""

from __future__ import annotations

import io
import itertools
import logging
import sys
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent.loop import Turn
from agent.redaction import install_redaction
from agent.runtime import Runtime, upgrade_store
from agent.sessions import SessionKey
from agent.unicode_text import valid_unicode
from bot.cli.alerts_commands import alerts_app
from bot.cli.exits import fail as _fail
from bot.cli.exits import runtime_or_exit as _runtime
from bot.cli.exits import settings_or_exit as _settings
from bot.cli.governance_commands import register_governance_commands
from bot.cli.json_output import JsonLinesSink
from bot.cli.profiling_commands import register_profiling_commands
from bot.cli.render import TerminalRenderer
from bot.cli.terminal_text import safe_text
from bot.cli.turns import run_turn_cancellable
from tools.errors import BlueprintError

_QUIT_WORDS = frozenset({"exit", "quit", "/exit", "/quit"})

app = typer.Typer(
    help="BlueprintData: ask questions about your dbt project's data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the conversation database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
register_profiling_commands(app)
register_governance_commands(app)

console = Console()


@app.callback()
def _configure(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details to stderr.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_redaction()


@app.command()
def chat(
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Answer one message and exit.")
    ] = None,
    session: Annotated[str | None, typer.Option("--session", help="Continue a stored session by id.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest terminal session.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled demo project and data.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print events as newline-delimited JSON.")
    ] = False,
) -> None:
    """Chat with the assistant. Questions in plain words need ANTHROPIC_API_KEY; /commands do not."""
    runtime = _runtime(_settings(demo))
    try:
        session_id = _open_session(runtime, session, resume)
        sink = JsonLinesSink() if json_output else TerminalRenderer(console)
        agent = runtime.agent()
        if message is not None:
            ok = _answer(agent, session_id, valid_unicode(message), sink)
            raise typer.Exit(0 if ok else 1)
        if isinstance(sys.stdin, io.TextIOWrapper):
            sys.stdin.reconfigure(errors="replace")  # A byte that is not UTF-8 is replaced, not fatal.
        if not sys.stdin.isatty():
            # Piped lines are answered as typed ones, up to a quit word as the prompt would stop there.
            lines = itertools.takewhile(
                lambda line: line not in _QUIT_WORDS, (line.strip() for line in sys.stdin)
            )
            results = [_answer(agent, session_id, line, sink) for line in lines if line]
            raise typer.Exit(0 if all(results) else 1)
        _repl(runtime, agent, session_id, sink)
    except BlueprintError as exc:  # e.g. the store went away between start and the first turn
        raise _fail(exc.message) from None
    finally:
        runtime.close()


def _open_session(runtime: Runtime, session: str | None, resume: bool) -> str:
    sessions = runtime.sessions
    if session:
        record = sessions.get(session)
        if record is None:
            raise _fail(f"No session {session!r}. `blueprintdata sessions` lists them.")
        return record.id
    if resume:
        latest = sessions.latest("cli")
        if latest is not None:
            return latest.id
    return sessions.open(SessionKey.new_terminal()).id


def _answer(turn: Turn, session_id: str, text: str, sink: TerminalRenderer | JsonLinesSink) -> bool:
    outcome = run_turn_cancellable(turn, session_id, text, sink, on_cancel=_on_cancel(sink))
    return outcome is not None and outcome.ok


def _on_cancel(sink: TerminalRenderer | JsonLinesSink) -> Callable[[], None]:
    def cancelled() -> None:
        if isinstance(sink, TerminalRenderer):
            sink.close()
            console.print(Text("Cancelled.", style="yellow"))

    return cancelled


def _repl(runtime: Runtime, turn: Turn, session_id: str, sink: TerminalRenderer | JsonLinesSink) -> None:
    where = "the demo shop project" if runtime.is_demo else str(runtime.project_dir)
    console.print(
        Text.assemble(
            ("BlueprintData", "bold"),
            f" · {where} · session {session_id[:8]}\n",
            ("Ask a question, or /help. Ctrl-C cancels an answer; Ctrl-D quits.", "dim"),
        )
    )
    if not runtime.model_client.configured:
        console.print(Text("No ANTHROPIC_API_KEY: only /commands work. Try /search revenue.", style="yellow"))
    while True:
        try:
            line = console.input("[bold cyan]›[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if line in _QUIT_WORDS:
            return
        if line:
            _answer(turn, session_id, line, sink)


@app.command()
def sessions(limit: Annotated[int, typer.Option(help="How many to list.")] = 20) -> None:
    """List stored sessions, newest first."""
    runtime = _runtime(_settings())
    try:
        table = Table("id", "source", "title", "messages", "last activity", "cost", header_style="bold")
        for summary in runtime.sessions.recent(limit=limit):
            record = summary.record
            table.add_row(
                record.id[:12],
                record.source,
                safe_text((record.title or "")[:60]),
                str(summary.message_count),
                summary.last_activity.strftime("%Y-%m-%d %H:%M"),
                f"${summary.total_cost_usd:.4f}",
            )
        console.print(table)
    except BlueprintError as exc:
        raise _fail(exc.message) from None
    finally:
        runtime.close()


@app.command()
def slack(
    http: Annotated[
        bool, typer.Option("--http", help="Serve the Events API over HTTP instead of Socket Mode.")
    ] = False,
    port: Annotated[int, typer.Option(help="HTTP mode: the port for /slack/events.")] = 3000,
) -> None:
    """Run the Slack bot: Socket Mode by default (SLACK_APP_TOKEN), or HTTP mode (SLACK_SIGNING_SECRET)."""

    # Slack libraries load only for this command.
    from slack_sdk.errors import SlackApiError, SlackRequestError

    from bot.observability.structured_logs import use_log_format
    from bot.slack.app import build_slack_bot
    from bot.slack.web_client import slack_refusal

    settings = _settings()
    use_log_format(settings.log_format, logging.INFO)
    runtime = _runtime(settings)
    try:
        bot = build_slack_bot(runtime, http_mode=http)
        if http:
            bot.start_http(port)
            ready: Callable[[], bool] = lambda: True  # noqa: E731
        else:
            ready = bot.start_socket_mode().client.is_connected
        health = bot.serve_health(settings.health_port, ready)
        bot.start_alerts()
    except BlueprintError as exc:
        runtime.close()
        raise _fail(exc.message) from None
    except SlackApiError as exc:
        runtime.close()
        raise _fail(slack_refusal(exc)) from None
    except (OSError, SlackRequestError) as exc:  # Slack out of reach while connecting Socket Mode
        runtime.close()
        raise _fail(f"Cannot reach Slack: {exc}. Check the network and the Slack tokens.") from None
    mode = f"HTTP mode on port {port} (/slack/events)" if http else "Socket Mode"
    console.print(
        f"BlueprintData is listening on Slack in {mode}; health on :{health.port}/healthz. Ctrl-C stops."
    )
    bot.run_until_signalled()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically at start)."""
    settings = _settings()
    try:
        revision = upgrade_store(settings)
    except BlueprintError as exc:
        raise _fail(exc.message) from None
    console.print(f"Database is at revision {revision}.")


def main() -> None:
    """Console-script entry point."""
    app()
