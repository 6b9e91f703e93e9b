"""Every sentence a person reads from the agent core, in one place."""

from __future__ import annotations

MISSING_API_KEY = (
    "No Anthropic API key is set, so I can only run direct commands. Set ANTHROPIC_API_KEY "
    "(export it in your shell, or add it to .env) to ask questions in plain words; "
    "type /help for the commands that work without it."
)
LLM_OVERLOADED = (
    "Claude is overloaded right now and did not answer after {attempts} tries. Please ask again in a minute."
)
LLM_RATE_LIMITED = "The Anthropic API is rate-limiting us and did not answer after {attempts} tries. Please ask again shortly."
LLM_AUTH = "The Anthropic API refused the API key (ANTHROPIC_API_KEY). Check that it is current and has access to {model}."
LLM_NOT_FOUND = "The model {model!r} was not found. Set BLUEPRINTDATA_MODEL to a model your key can use."
LLM_UNREACHABLE = "Could not reach the Anthropic API at {url}. Check your network, or ANTHROPIC_BASE_URL."
LLM_STREAM_CUT = (
    "The connection to the Anthropic API dropped mid-answer {attempts} times. Please ask again in a minute."
)
LLM_REFUSED = "The Anthropic API refused the request: {detail}"
LLM_SERVER = "The Anthropic API failed ({status}) after {attempts} tries. Please ask again in a minute."
TOOL_LIMIT_REACHED = (
    "You have used all {limit} tool calls allowed for this turn. Do not call tools again: answer now with "
    "what you have found, and say what is still unknown."
)
TURN_CANCELLED = "Cancelled."
MESSAGE_TOO_LONG = (
    "That message is {length:,} characters long; the limit is {limit:,} (BLUEPRINTDATA_MAX_MESSAGE_CHARS). "
    "Send a shorter question or query."
)
UNEXPECTED_ERROR = "Something went wrong on our side. Reference: {reference}."
UNKNOWN_COMMAND = "Unknown command /{name}. Type /help for the list."
NOT_A_DBT_PROJECT = (
    "{path} is not a dbt project (no dbt_project.yml). Run `blueprintdata init` in your dbt project, pass "
    "--project-dir PATH, or set BLUEPRINTDATA_DBT_PROJECT_DIR. `blueprintdata init --demo` tries the bundled demo."
)
STORE_UNREACHABLE = (
    "The conversation store is unreachable; nothing was lost. Please ask again in a minute "
    "(BLUEPRINTDATA_DATABASE_URL names it)."
)
SESSION_GONE = (
    "This conversation is no longer in the conversation store (its database was re-created). "
    "Start a new conversation: a new thread in Slack, or `blueprintdata chat` without --session."
)
