"""Alerts in the bot process: their cron schedules, the scheduler, and posting them to Slack."""
