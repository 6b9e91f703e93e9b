"""Agent output as Slack Block Kit payloads within Slack's limits: plain functions in, dicts out, no Slack calls."""
