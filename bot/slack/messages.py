"""Every sentence the Slack app itself says to people, in one place (the agent's own are in agent.user_messages)."""

from __future__ import annotations

SHUTTING_DOWN = "I'm restarting right now and could not take this question. Please ask again in a minute."
ANSWER_NOT_DELIVERED = "I answered, but Slack would not accept the formatted answer. Here it is as plain text (reference {reference}):"
TABLE_TOO_LARGE = "{summary}; the full result is attached as a CSV file."
TABLE_AS_TEXT = "{summary}; Slack rejected the table, so here it is as text."
WELCOME = "Hi! Ask me about your data in plain words, or try one of these:"
ASKED_ON_BEHALF = "<@{user}> asked: {text}"
SLASH_HELP = (
    "Ask a question: `/blueprintdata how many orders did we get last week?`. "
    "Direct commands work too: `/blueprintdata /sql SELECT ...`, `/search`, `/describe`, `/chart`, `/quality`, "
    "`/anomalies`, `/help`; `/blueprintdata private question` answers you alone, in a DM (with this "
    "channel's access rules); `/blueprintdata alerts list` shows the scheduled alerts."
)
SLASH_NOT_IN_CHANNEL = (
    "I can't post in this channel yet. Invite me first (`/invite @BlueprintData`), or ask me in a DM."
)
NO_SQL_FOR_ANSWER = "No SQL ran for this answer."
SQL_FOR_ANSWER = "The SQL behind this answer:"
FEEDBACK_THANKS = "Thanks for the feedback, <@{user}>."
STATUS_WORKING = "is thinking…"
GUESTS_NOT_ALLOWED = (
    "Sorry, I can't answer questions from guest accounts here. An admin can allow guests in the policy file."
)
EXTERNAL_NOT_ALLOWED = (
    "Sorry, I only answer people of this workspace in shared channels. An admin can allow this channel's "
    "partners in the policy file."
)
CHANNEL_NOT_ALLOWED = "Sorry, I'm not set up to answer questions here. Ask an admin to add a rule for this channel to the policy file."
ASKER_UNKNOWN = (
    "Sorry, I couldn't check who is asking just now, so I can't answer. Please try again in a minute."
)
PRIVATE_QUESTION = (
    "You asked in <#{channel}>, privately: {text}\n"
    "I answer here, with what <#{channel}> may see; follow-ups in this thread keep its access rules."
)
PRIVATE_ANSWER_SENT = "<@{user}>, I've sent you the answer privately, in a direct message."
PRIVATE_ANSWER_COMING = "I'll answer you privately, in our direct message."
PRIVATE_NEEDS_QUESTION = (
    'Add your question: `/blueprintdata private how many orders did we get last week?` (the "Answer '
    'privately" shortcut needs a message with a question in it).'
)
PRIVATE_NO_DM = (
    "I couldn't open a direct message with you, so I can't answer privately. Ask an admin to reinstall the "
    "app with the im:write scope, or ask me in a DM."
)
