"""`/alerts list` and `/alerts run NAME` (also `/blueprintdata alerts ...`): answered only to whoever asked.

A run queries the warehouse, so it goes to a background thread; the listener acknowledges at once and the
outcome comes back through the command's response URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from agent.clock import utc_now
from bot.alerts.configured import ConfiguredAlerts

ALERTS_COMMAND = "/alerts"

HELP = "`/alerts list` shows the alerts and how their last run went; `/alerts run NAME` runs one now."
NO_ALERTS = (
    "No alerts are set up. Add `blueprintdata_alerts.yml` to the dbt project (or set BLUEPRINTDATA_ALERTS_FILE) "
    "and restart the bot."
)
RUNNING = "Running alert *{name}* now…"
UNKNOWN_ALERT = "There is no alert named `{name}`. Alerts: {names}."

Respond = Callable[..., Any]
_ACTIONS = {"list", "run", "help"}


def alerts_arguments(text: str) -> str | None:
    """For `/blueprintdata alerts ...` (the same as `/alerts ...`): what follows `alerts`; else None."""
    words = text.split(maxsplit=1)
    if not words or words[0].lower() != "alerts":
        return None
    rest = words[1] if len(words) > 1 else ""
    # "alerts that fired last week?" is a question for the agent, not a command.
    return rest if not rest or rest.split()[0].lower() in _ACTIONS else None


def on_alerts_command(text: str, respond: Respond, alerts: ConfiguredAlerts) -> None:
    """Dispatch `list`, `run NAME` or help; `text` is what follows the command name."""
    words = text.split()
    action = words[0].lower() if words else "list"
    if action == "list":
        respond(text=alerts_list_text(alerts), response_type="ephemeral")
    elif action == "run" and len(words) == 2:
        _run(words[1], respond, alerts)
    else:
        respond(text=HELP, response_type="ephemeral")


def alerts_list_text(alerts: ConfiguredAlerts) -> str:
    """Each alert with its schedule, channel and last run; then what could not be loaded."""
    loaded = alerts.loaded
    if loaded.path is None:
        return NO_ALERTS
    lines = [f"*Alerts* (from `{loaded.path.name}`)"]
    for status in alerts.statuses():
        lines.append(
            f"• *{status.name}*: {status.watches} · `{status.schedule}` → {status.channel}\n"
            f"   last run: {status.last_run} · next: {status.next_run}"
        )
    if not loaded.alerts:
        lines.append("No alert could be loaded.")
    if loaded.problems:
        lines.append("*Not loaded:*")
        lines.extend(f"• {problem}" for problem in loaded.problems)
    return "\n".join(lines)


def _run(name: str, respond: Respond, alerts: ConfiguredAlerts) -> None:
    alert = alerts.loaded.find(name)
    if alert is None:
        names = ", ".join(f"`{a.name}`" for a in alerts.loaded.alerts) or "none"
        respond(text=UNKNOWN_ALERT.format(name=name, names=names), response_type="ephemeral")
        return
    respond(text=RUNNING.format(name=alert.name), response_type="ephemeral")

    def run() -> None:
        outcome = alerts.runner.run(alert, utc_now(), "manual")
        respond(text=outcome.message, response_type="ephemeral")

    threading.Thread(target=run, name=f"alert-run-{alert.name}", daemon=True).start()
