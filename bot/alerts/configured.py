"""The alerts of this deployment, loaded once per front door: definitions, problems, runner, status rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.alerts.incident_actions import IncidentDesk
from agent.alerts.loading import LoadedAlerts, alerts_file, load_alerts
from agent.alerts.notices import AlertNotifier
from agent.alerts.runner import AlertRunner
from agent.clock import utc_now
from agent.runtime import Runtime
from bot.alerts.schedule import check_schedule, cron_trigger, next_fire_time
from bot.alerts.scheduler import AlertScheduler


@dataclass(frozen=True)
class AlertStatus:
    """One alert as `alerts list` shows it."""

    name: str
    watches: str
    schedule: str
    channel: str
    last_run: str
    next_run: str


@dataclass
class ConfiguredAlerts:
    """The loaded alerts file and the runner that runs its alerts."""

    loaded: LoadedAlerts
    runner: AlertRunner
    catch_up: timedelta

    def statuses(self, now: datetime | None = None) -> list[AlertStatus]:
        moment = now or utc_now()
        rows = []
        for alert in self.loaded.alerts:
            last = self.runner.runs.latest(alert.name)
            upcoming = next_fire_time(cron_trigger(alert.schedule, alert.timezone), moment)
            last_text = "never"
            if last is not None:
                detail = last.error or last.summary or ""
                last_text = f"{last.status} at {last.scheduled_for:%Y-%m-%d %H:%M} UTC" + (
                    f": {detail}" if detail else ""
                )
            rows.append(
                AlertStatus(
                    name=alert.name,
                    watches=alert.watches(),
                    schedule=f"{alert.schedule} ({alert.timezone})",
                    channel=alert.channel,
                    last_run=last_text,
                    next_run=f"{upcoming:%Y-%m-%d %H:%M %Z}" if upcoming else "never",
                )
            )
        return rows

    def desk(self) -> IncidentDesk:
        """Where the incident buttons' actions are applied."""
        return IncidentDesk(self.runner.keeper)

    def scheduler(self) -> AlertScheduler:
        """A scheduler for the alerts that loaded (start it, or drive it with `tick(now)`)."""
        return AlertScheduler(self.loaded.alerts, self.runner, catch_up=self.catch_up)


def load_configured_alerts(runtime: Runtime, notifier: AlertNotifier | None = None) -> ConfiguredAlerts:
    """Read the alerts file (if any) against the project; a bad alert is a problem, the rest load."""
    path = alerts_file(runtime.settings, runtime.project_dir)
    loaded = load_alerts(
        path,
        check_schedule=check_schedule,
        index=runtime.index(),
        project_dir=runtime.project_dir,
        allowed_functions=runtime.settings.allowed_functions,
    )
    catch_up = timedelta(minutes=runtime.settings.alerts_catch_up_minutes)
    runner = AlertRunner(runtime, notifier, alerts=loaded.alerts)
    return ConfiguredAlerts(loaded, runner, catch_up)


def alerts_enabled(runtime: Runtime, loaded: LoadedAlerts) -> bool:
    """BLUEPRINTDATA_ALERTS_ENABLED; by default on when an alerts file exists, except the bundled demo's."""
    settings = runtime.settings
    if settings.alerts_enabled is not None:
        return settings.alerts_enabled
    # The demo's own alerts post to a channel of an imaginary shop: they run only when asked to.
    demo_file = runtime.is_demo and settings.alerts_file is None
    return loaded.path is not None and not demo_file
