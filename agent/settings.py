"""One settings object for every front door, read from the environment and a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AliasChoices, ByteSize, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tools.errors import ConfigError

DEFAULT_MODEL = "claude-sonnet-5-5"


def default_data_dir() -> Path:
    """The per-user directory where the conversation database, demo warehouse and charts live."""
    return Path(platformdirs.user_data_dir("blueprintdata", appauthor=False))


def _ours(name: str) -> AliasChoices:
    return AliasChoices(f"BLUEPRINTDATA_{name}")


class Settings(BaseSettings):
    """Every setting BlueprintData reads. README documents each one (a test keeps it so)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Standard names, shared with the vendors' own tools.
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"), description="Anthropic API key."
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ANTHROPIC_BASE_URL"),
        description="Messages API base URL, for proxies and compatible servers.",
    )
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"), description="Slack bot token (xoxb-...)."
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN"),
        description="Slack app-level token (xapp-...) for Socket Mode.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET"),
        description="Slack signing secret, for HTTP mode.",
    )
    dbt_profiles_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("DBT_PROFILES_DIR"),
        description="Where profiles.yml lives (dbt's own variable).",
    )

    # Ours.
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=_ours("DATA_DIR"),
        description="Directory for the default database, the demo warehouse and chart files.",
    )
    database_url: str | None = Field(
        None,
        validation_alias=_ours("DATABASE_URL"),
        description="SQLAlchemy URL of the conversation store; default: a SQLite file in the data directory.",
    )
    dbt_project_dir: Path | None = Field(
        None,
        validation_alias=_ours("DBT_PROJECT_DIR"),
        description="Your dbt project (with target/manifest.json); default: the bundled demo project.",
    )
    dbt_target: str | None = Field(
        None, validation_alias=_ours("DBT_TARGET"), description="dbt target to use from profiles.yml."
    )
    policy_file: Path | None = Field(
        None,
        validation_alias=_ours("POLICY_FILE"),
        description='Who may read what (YAML, see README "Who can ask what"); reloaded when it changes.',
    )
    slack_default_access: Literal["allow", "deny"] = Field(
        "allow",
        validation_alias=_ours("SLACK_DEFAULT_ACCESS"),
        description="A Slack channel no policy rule names: allow (sensitive columns masked) or deny.",
    )
    audit_retention_days: int = Field(
        365,
        ge=1,
        validation_alias=_ours("AUDIT_RETENTION_DAYS"),
        description="Audit records older than this many days are deleted at start.",
    )
    glossary_file: Path | None = Field(
        None,
        validation_alias=_ours("GLOSSARY_FILE"),
        description="Business glossary (YAML); default: blueprintdata_glossary.yml in the dbt project.",
    )
    warehouse_url: SecretStr | None = Field(
        None,
        validation_alias=_ours("WAREHOUSE_URL"),
        description="Warehouse URL (SQLAlchemy, or bigquery://project/dataset); overrides the dbt profile.",
    )
    model: str = Field(DEFAULT_MODEL, validation_alias=_ours("MODEL"), description="Claude model id.")
    max_result_rows: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        validation_alias=_ours("MAX_RESULT_ROWS"),
        description="Rows kept from one query for charts and export.",
    )
    rows_to_model: int = Field(
        20,
        ge=0,
        le=500,
        validation_alias=_ours("ROWS_TO_MODEL"),
        description="Rows of a result shown to the model.",
    )
    query_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        validation_alias=_ours("QUERY_TIMEOUT_SECONDS"),
        description="Time limit for one warehouse query.",
    )
    max_bytes_scanned: ByteSize = Field(
        ByteSize(10 * 10**9),
        gt=0,
        validation_alias=_ours("MAX_BYTES_SCANNED"),
        description="BigQuery: a query whose dry run would scan more is refused (bytes, or e.g. 10GB, 500MB).",
    )
    max_result_bytes: ByteSize = Field(
        ByteSize(32 * 2**20),
        gt=0,
        validation_alias=_ours("MAX_RESULT_BYTES"),
        description="Bytes of one query's rows held in memory; fetching stops there and the result says so.",
    )
    max_cell_chars: int = Field(
        10_000,
        ge=100,
        validation_alias=_ours("MAX_CELL_CHARS"),
        description="Characters of one value kept from a query; longer text is cut and marked as cut.",
    )
    duckdb_memory_limit: ByteSize = Field(
        ByteSize(512 * 2**20),
        ge=64 * 2**20,
        validation_alias=_ours("DUCKDB_MEMORY_LIMIT"),
        description="DuckDB, which runs in our process: memory one connection's sorts, joins and aggregates may "
        "hold; nothing spills to disk, a query that needs more is stopped and says so.",
    )
    max_message_chars: int = Field(
        50_000,
        ge=100,
        validation_alias=_ours("MAX_MESSAGE_CHARS"),
        description="Longest message (question or /command) accepted; longer ones are refused in one line.",
    )
    max_tool_result_chars: int = Field(
        40_000,
        ge=1_000,
        validation_alias=_ours("MAX_TOOL_RESULT_CHARS"),
        description="Characters of one tool result sent to the model; the rest is left out, with a note.",
    )
    allow_privileged_warehouse_user: bool = Field(
        False,
        validation_alias=_ours("ALLOW_PRIVILEGED_WAREHOUSE_USER"),
        description="Serve through a PostgreSQL user that may write or administer (refused by default).",
    )
    bigquery_api_endpoint: str | None = Field(
        None,
        validation_alias=_ours("BIGQUERY_API_ENDPOINT"),
        description="BigQuery API endpoint (a private endpoint, or an emulator over plain http).",
    )
    allowed_functions: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(),
        validation_alias=_ours("ALLOWED_FUNCTIONS"),
        description=(
            "SQL functions the guard should allow beyond the known pure ones, comma-separated (name, or "
            "schema.name for a qualified call); only list functions without side effects."
        ),
    )
    send_result_rows_to_model: bool = Field(
        True,
        validation_alias=_ours("SEND_RESULT_ROWS_TO_MODEL"),
        description="Show the model a result's first rows; when false it sees only columns and row count.",
    )
    max_tool_iterations: int = Field(
        12,
        ge=1,
        le=100,
        validation_alias=_ours("MAX_TOOL_ITERATIONS"),
        description="Tool calls the model may make in one turn.",
    )
    max_output_tokens: int = Field(
        4096,
        ge=256,
        le=64_000,
        validation_alias=_ours("MAX_OUTPUT_TOKENS"),
        description="Output token limit for one model call.",
    )
    history_token_budget: int = Field(
        60_000,
        ge=2_000,
        validation_alias=_ours("HISTORY_TOKEN_BUDGET"),
        description="Approximate tokens of past conversation sent with each turn.",
    )
    artifact_retention_days: int = Field(
        30,
        ge=1,
        validation_alias=_ours("ARTIFACT_RETENTION_DAYS"),
        description="Days charts and result files are kept.",
    )
    llm_max_retries: int = Field(
        4,
        ge=0,
        le=10,
        validation_alias=_ours("LLM_MAX_RETRIES"),
        description="Retries on 429, 529 and 5xx answers from the model API.",
    )
    llm_timeout_seconds: float = Field(
        120.0, gt=0, validation_alias=_ours("LLM_TIMEOUT_SECONDS"), description="Model API request timeout."
    )

    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_ours("SLACK_API_URL"),
        description="Slack Web API base URL (for GovSlack, or a test server).",
    )
    slack_audit_channel: str | None = Field(
        None,
        validation_alias=_ours("SLACK_AUDIT_CHANNEL"),
        description="A channel id where each Slack question and answer is summarised, with a link to the thread.",
    )
    slack_workers: int = Field(
        16,
        ge=1,
        le=256,
        validation_alias=_ours("SLACK_WORKERS"),
        description="Slack threads answered at the same time.",
    )
    slack_shutdown_grace_seconds: float = Field(
        60.0,
        ge=0,
        validation_alias=_ours("SLACK_SHUTDOWN_GRACE_SECONDS"),
        description="On SIGTERM, how long answers in flight may take to finish.",
    )
    slack_inbox_lease_seconds: float = Field(
        15.0,
        ge=2,
        le=28,
        validation_alias=_ours("SLACK_INBOX_LEASE_SECONDS"),
        description=(
            "How long a question taken from the inbox stays with the process answering it without a renewal; "
            "when that process dies, another takes the question over after at most this long."
        ),
    )
    slack_inbox_renew_seconds: float = Field(
        5.0,
        gt=0,
        le=10,
        validation_alias=_ours("SLACK_INBOX_RENEW_SECONDS"),
        description="How often a process renews the leases of the questions it is answering (well under the lease).",
    )

    alerts_file: Path | None = Field(
        None,
        validation_alias=_ours("ALERTS_FILE"),
        description="Alert definitions (YAML); default: blueprintdata_alerts.yml in the dbt project.",
    )
    alerts_enabled: bool | None = Field(
        None,
        validation_alias=_ours("ALERTS_ENABLED"),
        description="Run scheduled alerts in the Slack bot; default: on when an alerts file exists.",
    )
    alerts_catch_up_minutes: float = Field(
        360.0,
        ge=0,
        validation_alias=_ours("ALERTS_CATCH_UP_MINUTES"),
        description="After a restart, the latest run missed at most this long ago is caught up (once).",
    )

    profile_sample_rows: int = Field(
        1_000_000,
        ge=1_000,
        validation_alias=_ours("PROFILE_SAMPLE_ROWS"),
        description="`blueprintdata sync`: tables with more rows are profiled on a sample of about this many.",
    )

    health_port: int = Field(
        8080,
        ge=0,
        le=65535,
        validation_alias=_ours("HEALTH_PORT"),
        description="Port of the Slack bot's /healthz and /metrics endpoints (0 picks a free port).",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        validation_alias=_ours("LOG_FORMAT"),
        description=(
            "`text` for people; `json` for log collectors: one JSON object per line with the team, channel, "
            "thread and turn ids, never the text of messages."
        ),
    )

    quality_freshness_hours: float = Field(
        24.0,
        gt=0,
        validation_alias=_ours("QUALITY_FRESHNESS_HOURS"),
        description="Data quality check: data older than this fails freshness, unless dbt declares warn_after.",
    )
    quality_row_count_change_percent: float = Field(
        50.0,
        gt=0,
        validation_alias=_ours("QUALITY_ROW_COUNT_CHANGE_PERCENT"),
        description="Data quality check: a row count that moved more than this since the last profile fails.",
    )

    @field_validator("allowed_functions", mode="before")
    @classmethod
    def _function_names(cls, value: object) -> object:
        # Comma-separated in the environment; names compare in lower case, as the guard sees them.
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(str(name).strip().lower() for name in value if str(name).strip())
        return value

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a Claude model id such as claude-sonnet-5-5")
        return value.strip()

    def resolved_database_url(self) -> str:
        """The conversation store URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'blueprintdata.db'}"


def _variable_name(field_name: str) -> str:
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices) and alias.choices:
        return str(alias.choices[0])
    return field_name.upper()


_SECRET_FIELDS = {
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
}


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises ConfigError naming the variable and what it accepts."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field_name = str(error["loc"][0]) if error["loc"] else "?"
            shown = "<hidden>" if field_name in _SECRET_FIELDS else repr(error.get("input"))
            problems.append(f"{_variable_name(field_name)}: {error['msg']} (got {shown})")
        raise ConfigError("Invalid setting. " + "; ".join(problems)) from None
