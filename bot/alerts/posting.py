"""Posting alert notices to Slack: the message, its chart in the thread, and the thread opened as a session.

The thread of an anomaly post becomes a conversation like any other (same session key as a mention would
make), seeded with the alert's metric, query and finding, so a reply there is answered with that context.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.alerts.notices import AlertNotice, AnomalyNotice, IncidentNote, IncidentNotice, PostedNotice
from agent.redaction import redact
from agent.sessions import SessionKey, Sessions
from bot.alerts.incident_rendering import incident_blocks, incident_text, note_text
from bot.alerts.mentions import SlackMentions
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
        self._mentions = SlackMentions(client)
        self._lock = threading.Lock()

    def post(self, notice: AlertNotice) -> PostedNotice:
        """Post to the alert's channel; SlackApiError when Slack refuses (the runner records it)."""
        if isinstance(notice, IncidentNotice):
            return self._post_incident(notice)
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

    def update(self, where: PostedNotice, notice: IncidentNotice) -> None:
        """Edit an incident's message in place to show its current state."""
        assert where.ts is not None
        notice = replace(notice, mentions=self._mentions.mentions(notice.mentions))
        self._client.chat_update(
            channel=where.channel, ts=where.ts, text=incident_text(notice), blocks=incident_blocks(notice)
        )

    def reply(self, where: PostedNotice, note: IncidentNote) -> None:
        """A note in an incident's thread, with the chart when a new anomaly came in."""
        assert where.ts is not None
        # Already Slack mrkdwn (mentions, bold): posted as it is.
        self._client.chat_postMessage(
            channel=where.channel, thread_ts=where.ts, text=note_text(note), unfurl_links=False
        )
        if note.chart_png:
            filename = f"{note.alert.name}-{note.incident.state.latest.at:%Y%m%d-%H%M}.png"
            self._upload(note.alert.name, note.alert.display_metric(), note.chart_png, filename, where)

    def _post_incident(self, notice: IncidentNotice) -> PostedNotice:
        notice = replace(notice, mentions=self._mentions.mentions(notice.mentions))
        text = incident_text(notice)
        response = self._client.chat_postMessage(
            channel=notice.channel, text=text, blocks=incident_blocks(notice), unfurl_links=False
        )
        channel, ts = str(response.get("channel") or notice.channel), str(response["ts"])
        if notice.anomalies:
            self._sessions.seed(
                SessionKey.slack_thread(self._team(), channel, ts),
                notice.seed(),
                title=notice.anomalies[0].title(),
                metadata=self._thread_metadata(channel, ts, notice.alert.name, notice.key),
            )
        where = PostedNotice(channel, ts)
        for anomaly in notice.anomalies:
            if anomaly.chart_png:
                metric = anomaly.evaluation.metric
                self._upload(anomaly.alert.name, metric, anomaly.chart_png, anomaly.chart_filename(), where)
        return where

    def _thread_metadata(
        self, channel: str, ts: str, alert: str, incident: int | None = None
    ) -> dict[str, str]:
        metadata = {"team": self._team(), "channel": channel, "thread_ts": ts, "alert": alert}
        if incident is not None:
            metadata["incident"] = str(incident)
        return metadata

    def _open_thread(self, notice: AnomalyNotice, channel: str, ts: str) -> None:
        """The post's thread as a session, its history starting with the alert (replies need no mention)."""
        self._sessions.seed(
            SessionKey.slack_thread(self._team(), channel, ts),
            notice.seed(),
            title=notice.title(),
            metadata=self._thread_metadata(channel, ts, notice.alert.name),
        )

    def _upload_chart(self, notice: AnomalyNotice, channel: str, ts: str) -> None:
        assert notice.chart_png is not None
        where = PostedNotice(channel, ts)
        self._upload(
            notice.alert.name, notice.evaluation.metric, notice.chart_png, notice.chart_filename(), where
        )

    def _upload(self, alert: str, metric: str, png: bytes, filename: str, where: PostedNotice) -> None:
        channel, ts = where.channel, str(where.ts)
        title = f"Alert {alert}: {metric}"
        try:
            self._client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                content=png,
                filename=filename,
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
