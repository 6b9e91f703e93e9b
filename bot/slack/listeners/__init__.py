"""Wiring: which Slack events, commands and buttons go to which listener. Listeners live in their own modules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.incident_rendering import INCIDENT_ACTION_PREFIX
from bot.slack.answering import SlackAnswerer
from bot.slack.listeners.actions import on_feedback, on_show_sql
from bot.slack.listeners.alerts import ALERTS_COMMAND, alerts_arguments, on_alerts_command
from bot.slack.listeners.commands import on_slash_command
from bot.slack.listeners.events import on_app_mention, on_message
from bot.slack.listeners.home import (
    ASK_SUGGESTION_ACTION_ID,
    on_app_home_opened,
    on_ask_suggested_question,
    on_assistant_thread_started,
)
from bot.slack.listeners.incident_buttons import on_incident_button
from bot.slack.listeners.private import PRIVATE_SHORTCUT, on_private_shortcut
from bot.slack.rendering.controls import FEEDBACK_ACTION_ID, SHOW_SQL_ACTION_ID

SLASH_COMMAND = "/blueprintdata"


def register_listeners(app: App, answerer: SlackAnswerer, alerts: ConfiguredAlerts) -> None:
    """Attach every listener; each acknowledges at once and hands slow work to the answerer's pool."""

    @app.event("app_mention")
    def app_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_app_mention(body, event, answerer)

    @app.event("message")
    def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_message(body, event, answerer)

    @app.event("app_home_opened")
    def app_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        on_app_home_opened(body, event, answerer)

    @app.event("assistant_thread_started")
    def assistant_thread_started(event: dict[str, Any]) -> None:
        on_assistant_thread_started(event, answerer)

    @app.command(SLASH_COMMAND)
    def slash_command(ack: Ack, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        arguments = alerts_arguments(str(command.get("text") or ""))
        if arguments is not None:
            on_alerts_command(arguments, respond, alerts)
            return
        on_slash_command(command, respond, answerer)

    @app.command(ALERTS_COMMAND)
    def alerts_command(ack: Ack, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        on_alerts_command(str(command.get("text") or ""), respond, alerts)

    @app.shortcut(PRIVATE_SHORTCUT)
    def answer_privately(ack: Ack, body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        reply = on_private_shortcut(body, answerer)
        if reply is not None:  # None: a click handled before.
            respond(text=reply, response_type="ephemeral")

    _button(app, re.compile(f"^{re.escape(FEEDBACK_ACTION_ID)}"), lambda body: on_feedback(body, answerer))
    _button(app, re.compile(f"^{re.escape(SHOW_SQL_ACTION_ID)}"), lambda body: on_show_sql(body, answerer))
    _button(
        app,
        re.compile(f"^{re.escape(ASK_SUGGESTION_ACTION_ID)}"),
        lambda body: on_ask_suggested_question(body, answerer),
    )
    _button(
        app,
        re.compile(f"^{re.escape(INCIDENT_ACTION_PREFIX)}"),
        lambda body: on_incident_button(body, alerts, answerer),
    )


def _button(app: App, action_id: re.Pattern[str], handle: Callable[[dict[str, Any]], None]) -> None:
    @app.action(action_id)
    def clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        handle(body)
