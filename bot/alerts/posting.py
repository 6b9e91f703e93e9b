"""Posting alert notices to Slack: the message, its chart in the thread, and the thread opened as a session.

The thread of an anomaly post becomes a conversation like any other (same session key as a mention would
make), seeded with the alert's metric, query and finding, so a reply there is answered with that context.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.alerts.notices import AlertNotice, AnomalyNotice, PostedNotice
from agent.redaction import redact
from agent.sessions import SessionKey, Sessions
from bot.alerts.rendering import notice_text
from bot.slack.posting import post_in_thread
from bot.slack.rendering.markdown import section_block

log = logging.getLogger(__name__)


class SlackAlertNotifier:
    """Implements agent.alerts.notices.AlertNotifier for Slack."""

    def __init__(self, client: WebClient, sessions: Sessions) -> None:
        self._client = client
        self._sessions = sessions
        self._team_id: str | None = None
        self._lock = threading.Lock()

    def post(self, notice: AlertNotice) -> PostedNotice:
        """Post to the alert's channel; SlackApiError when Slack refuses (the runner records it)."""
        text = redact(notice_text(notice))  # A failure notice quotes the warehouse's error.
        response = self._client.chat_postMessage(
            channel=notice.alert.channel,
            text=text,
            blocks=[section_block(text)],
            unfurl_links=False,
        )
        channel, ts = str(response.get("channel") or notice.alert.channel), str(response["ts"])
        if isinstance(notice, AnomalyNotice):
            self._open_thread(notice, channel, ts)
            if notice.chart_png:
                self._upload_chart(notice, channel, ts)
        return PostedNotice(channel, ts)

    def _open_thread(self, notice: AnomalyNotice, channel: str, ts: str) -> None:
        """The post's thread as a session, its history starting with the alert (replies need no mention)."""
        self._sessions.seed(
            SessionKey.slack_thread(self._team(), channel, ts),
            notice.seed(),
            title=notice.title(),
            metadata={"team": self._team(), "channel": channel, "thread_ts": ts, "alert": notice.alert.name},
        )

    def _upload_chart(self, notice: AnomalyNotice, channel: str, ts: str) -> None:
        title = f"Alert {notice.alert.name}: {notice.evaluation.metric}"
        try:
            self._client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                content=notice.chart_png,
                filename=notice.chart_filename(),
                title=title,
            )
        except SlackApiError as exc:
            # The alert itself is out; say in its thread why the chart is missing.
            log.warning("alert chart upload failed: %s", exc.response.get("error"))
            post_in_thread(
                self._client,
                channel,
                ts,
                text=f"I made the chart but could not upload it ({exc.response.get('error')}).",
                variants=[],
            )

    def _team(self) -> str:
        with self._lock:
            if self._team_id is None:
                self._team_id = str(self._client.auth_test().get("team_id") or "")
            return self._team_id
