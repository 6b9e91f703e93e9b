"""Alert notices in Slack's mrkdwn: the agent hands notices over as data, the bot decides how they read."""

from __future__ import annotations

from agent.alerts.notices import AlertNotice, AnomalyNotice, FailureNotice, IncidentNotice, RecoveryNotice
from bot.alerts.incident_rendering import incident_text

_REPLY_HINT = "Reply in this thread to ask me about it, e.g. “which channel drove this?”"


def notice_text(notice: AlertNotice) -> str:
    """The post for a notice: what happened, the alert, what to do."""
    if isinstance(notice, AnomalyNotice):
        return _anomaly_text(notice)
    if isinstance(notice, FailureNotice):
        return (
            f":warning: *Alert {notice.alert.name}* could not run: {notice.short_error()}\n"
            "I will say here when it works again, and will not repeat this message until then."
        )
    if isinstance(notice, IncidentNotice):
        return incident_text(notice)
    return _recovery_text(notice)


def _anomaly_text(notice: AnomalyNotice) -> str:
    upwards = notice.finding.direction == "above"
    icon = ":chart_with_upwards_trend:" if upwards else ":chart_with_downwards_trend:"
    lines = [f"{icon} *Alert {notice.alert.name}*: {notice.finding.explain(notice.alert.display_metric())}"]
    if notice.alert.description:
        lines.append(notice.alert.description.strip())
    lines.append(f"*What to do:* {notice.what_to_do()}")
    lines.append(f"_{_REPLY_HINT}_")
    return "\n".join(lines)


def _recovery_text(notice: RecoveryNotice) -> str:
    return (
        f":white_check_mark: *Alert {notice.alert.name}* runs again (it failed since "
        f"{notice.failing_since:%Y-%m-%d %H:%M %Z}). Latest: {notice.latest}."
    )
