"""The policy file's shape: rules that map principals to the models, columns and rows they may read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# How the file spells "any Slack channel no rule names" in `default_slack_access`.
SlackDefault = Literal["allow", "deny"]


class Match(BaseModel):
    """Who a rule is for; a rule with several fields matches a principal that meets any of them."""

    model_config = ConfigDict(extra="forbid")

    channels: list[str] = Field(default_factory=list, description="Slack channel ids (C0123) or #names.")
    users: list[str] = Field(default_factory=list, description="Slack user ids (U0123) or email addresses.")
    groups: list[str] = Field(default_factory=list, description="Slack user group ids (S0123) or @handles.")
    direct_messages: bool = Field(False, description="Direct messages with the app.")
    terminal: bool = Field(False, description="The terminal (blueprintdata chat and ask).")
    alerts: bool = Field(False, description="Scheduled alerts.")
    everyone: bool = Field(False, description="Every principal: a base rule the others narrow.")

    @field_validator("channels", "users", "groups")
    @classmethod
    def _no_blank_names(cls, names: list[str]) -> list[str]:
        if any(not name.strip() for name in names):
            raise ValueError("names must not be blank")
        return [name.strip() for name in names]


class BudgetLimits(BaseModel):
    """What one user or one channel may spend per UTC day and month; a missing limit is no limit."""

    model_config = ConfigDict(extra="forbid")

    daily_usd: float | None = Field(None, gt=0, description="Model cost in USD per day.")
    monthly_usd: float | None = Field(None, gt=0, description="Model cost in USD per month.")
    daily_bytes: int | None = Field(None, gt=0, description="Warehouse bytes scanned per day.")
    monthly_bytes: int | None = Field(None, gt=0, description="Warehouse bytes scanned per month.")
    daily_questions: int | None = Field(None, gt=0, description="Questions per day.")
    monthly_questions: int | None = Field(None, gt=0, description="Questions per month.")


class Budgets(BaseModel):
    """Limits for each user the rule matches, and for each channel it matches."""

    model_config = ConfigDict(extra="forbid")

    per_user: BudgetLimits | None = None
    per_channel: BudgetLimits | None = None


class Rule(BaseModel):
    """One entry of the policy: whom it matches and what they may read."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    match: Match
    # dbt selection syntax: names and globs, tag:, path:, source:, +parents and children+.
    allow: list[str] | None = Field(None, description="Models and sources these principals may read.")
    deny: list[str] = Field(default_factory=list, description="Models and sources they may never read.")
    deny_columns: list[str] = Field(default_factory=list, description="model.column (globs allowed).")
    mask_columns: list[str] = Field(default_factory=list, description="model.column kept from the model.")
    # Sensitive columns (dbt meta pii/sensitive, or personal-data names) are masked unless listed here.
    allow_sensitive_columns: list[str] = Field(default_factory=list, description="model.column (globs).")
    row_filters: dict[str, str] = Field(default_factory=dict, description="model -> SQL predicate.")
    allow_guests: bool | None = Field(None, description="Admit Slack guest accounts.")
    allow_external: bool | None = Field(None, description="Admit users of other workspaces (Slack Connect).")
    budgets: Budgets | None = Field(None, description="Spending limits; the most specific rule's apply.")

    @field_validator("deny_columns", "mask_columns", "allow_sensitive_columns")
    @classmethod
    def _column_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if "." not in pattern.strip(".") or not all(pattern.split(".")):
                raise ValueError(f"{pattern!r} is not model.column (use *.column for every model)")
        return patterns


class PolicyFile(BaseModel):
    """The whole file: the rules, and what a Slack channel no rule names gets."""

    model_config = ConfigDict(extra="forbid")

    default_slack_access: SlackDefault | None = None
    rules: list[Rule] = Field(default_factory=list)
