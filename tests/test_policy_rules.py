"""The policy file: validation errors name the rule and field, reloads keep the last good version, and rules
combine as the README says (most specific allow wins, deny beats allow, guests and Slack Connect refused)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demo.load import DEMO_PROJECT_DIR
from tools.dbt.index import DbtIndex, load_index
from tools.errors import ConfigError
from tools.policy import Principal
from tools.policy.access import resolve_access
from tools.policy.loading import PolicySource, parse_policy

FINANCE = """
rules:
  - name: company
    match: {everyone: true}
    allow: ["tag:mart"]
    deny: [dim_products]
  - name: finance channel
    match: {channels: ["#finance"]}
    allow: ["tag:mart", "tag:staging"]
  - name: ann
    match: {users: [ann@example.com]}
    allow: ["fct_orders"]
    allow_sensitive_columns: ["dim_customers.email"]
  - name: partners
    match: {channels: [C0SHARED]}
    allow: [daily_revenue]
    allow_external: true
"""


@pytest.fixture(scope="module")
def index() -> DbtIndex:
    return load_index(DEMO_PROJECT_DIR)


def names(index: DbtIndex, allowed: frozenset[str]) -> set[str]:
    return {node.name for node in index.nodes() if node.unique_id in allowed}


def channel(name: str, **fields: object) -> Principal:
    return Principal(
        "slack_channel", user_id="U9", channel_id=f"C{name.upper()}", channel_name=name, **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [{name: a, match: {channelz: []}}]", "rules[0] (a): match: channelz: Extra inputs"),
        (
            "rules: [{name: a, match: {}, deny_columns: [email]}]",
            "rules[0] (a): deny_columns: Value error, 'email' is not model.column",
        ),
        (
            "rules: [{name: a, match: {}, row_filters: {fct_orders: 'x = {mail}'}}]",
            "rules[0] (a): row_filters.fct_orders: unknown attribute {mail}",
        ),
        (
            "rules: [{name: a, match: {}, row_filters: {fct_orders: 'x = = 1'}}]",
            "row_filters.fct_orders: not a SQL condition",
        ),
        ("rules: [{name: a, match: {}}, {name: a, match: {}}]", "two rules are named 'a'"),
        ("default_slack_access: maybe", "default_slack_access: Input should be 'allow' or 'deny'"),
    ],
)
def test_errors_name_the_rule_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_policy(text, "policy.yml")
    assert expected in error.value.message


def test_a_broken_edit_keeps_the_last_good_version(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(FINANCE)
    source = PolicySource(path)
    assert len(source.current().rules) == 4
    path.write_text("rules: [{name: broken, match: {nope: 1}}]")
    os.utime(path, ns=(1, 1))
    assert len(source.current().rules) == 4 and "nope" in (source.last_error or "")
    path.write_text("rules: [{name: only, match: {everyone: true}}]")
    os.utime(path, ns=(2, 2))
    assert [rule.name for rule in source.current().rules] == ["only"] and source.last_error is None


def test_most_specific_allow_wins_and_deny_beats_allow(index: DbtIndex) -> None:
    policy = parse_policy(FINANCE, "policy.yml")
    general = resolve_access(policy, channel("general"), index, slack_default="deny")
    assert "fct_orders" in names(index, general.allowed) and "stg_orders" not in names(index, general.allowed)
    assert "dim_products" not in names(index, general.allowed)
    finance = resolve_access(policy, channel("finance"), index, slack_default="deny")
    assert {"stg_orders", "fct_orders"} <= names(index, finance.allowed)
    assert "dim_products" not in names(index, finance.allowed)  # The company-wide deny still applies.
    ann = resolve_access(policy, channel("finance", email="ann@example.com"), index, slack_default="deny")
    assert names(index, ann.allowed) == {"fct_orders"}  # Her rule and the channel's, both.
    customers = index.resolve("dim_customers")
    assert "email" not in ann.hidden_columns(customers) and "email" in finance.hidden_columns(customers)


def test_guests_and_slack_connect_are_refused_unless_a_rule_allows(index: DbtIndex) -> None:
    policy = parse_policy(FINANCE, "policy.yml")
    guest = resolve_access(policy, channel("general", is_guest=True), index, slack_default="allow")
    assert not guest.admitted and "guest" in (guest.refusal or "")
    outsider = resolve_access(policy, channel("general", is_external=True), index, slack_default="allow")
    assert not outsider.admitted and "other workspaces" in (outsider.refusal or "")
    shared = Principal("slack_channel", user_id="UX", channel_id="C0SHARED", is_external=True)
    partner = resolve_access(policy, shared, index, slack_default="allow")
    assert partner.admitted and names(index, partner.allowed) == {"daily_revenue"}


def test_slack_default_applies_to_channels_no_rule_names(index: DbtIndex) -> None:
    policy = parse_policy("rules: [{name: fin, match: {channels: ['#finance']}, allow: [fct_orders]}]", "p")
    denied = resolve_access(policy, channel("random"), index, slack_default="deny")
    assert not denied.admitted
    allowed = resolve_access(policy, channel("random"), index, slack_default="allow")
    assert allowed.admitted and len(allowed.allowed) == len(index.nodes())
    assert "email" in allowed.hidden_columns(index.resolve("dim_customers"))  # Sensitive: masked by default.


def test_models_built_from_a_filtered_model_are_withheld_unless_named(index: DbtIndex) -> None:
    def access(rules: str) -> tuple[set[str], dict[str, str]]:
        resolved = resolve_access(parse_policy(rules, "p"), channel("sales"), index, slack_default="deny")
        return names(index, resolved.allowed), {
            index.resolve(uid.rsplit(".", 1)[-1]).name: why for uid, why in resolved.withheld.items()
        }

    filtered = "row_filters: {fct_orders: \"channel = 'web'\"}"
    # daily_revenue and dim_customers aggregate fct_orders: an allow by tag or glob does not let them through.
    allowed, withheld = access(
        f"rules: [{{name: s, match: {{everyone: true}}, allow: ['tag:mart', 'daily_*'], {filtered}}}]"
    )
    assert {"fct_orders", "fct_order_items"} <= allowed and not {"daily_revenue", "dim_customers"} & allowed
    assert "built from fct_orders" in withheld["daily_revenue"] and "rule 's'" in withheld["daily_revenue"]
    # Named in an allow (any rule that applies), or given a filter of its own: readable.
    allowed, _ = access(
        "rules: [{name: s, match: {everyone: true}, allow: ['tag:mart', daily_revenue], "
        f"{filtered}}}, {{name: d, match: {{channels: ['#sales']}}, row_filters: {{dim_customers: 'country = 1'}}}}]"
    )
    assert {"daily_revenue", "dim_customers"} <= allowed
    # Further down too: a filter on a staging model withholds every mart built from it.
    allowed, withheld = access(
        "rules: [{name: s, match: {everyone: true}, allow: ['tag:mart', 'tag:staging'], "
        "row_filters: {stg_orders: \"channel = 'web'\"}}]"
    )
    assert (
        "stg_orders" in allowed
        and not {"fct_orders", "fct_order_items", "daily_revenue", "dim_customers"} & allowed
    )
    assert "built from stg_orders" in withheld["daily_revenue"]
