"""What one principal may read under a policy: allowed nodes, hidden columns and row filters per node."""

from __future__ import annotations

import fnmatch
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtColumn, DbtNode
from tools.policy.matching import EVERYONE, GROUP, PLACE, USER, MatchedRule, matching_rules, names_slack_place
from tools.policy.principal import Principal
from tools.policy.rules import BudgetLimits, PolicyFile, Rule, SlackDefault
from tools.profiling.selection import SelectionError, select_nodes
from tools.sensitivity import is_sensitive

HiddenReason = Literal["denied", "masked", "sensitive"]


@dataclass(frozen=True)
class Access:
    """The outcome of a policy for one principal; `admitted` False means the question is refused outright."""

    principal: Principal
    admitted: bool
    refusal: str | None
    allowed: frozenset[str]
    hidden: dict[str, dict[str, HiddenReason]]
    row_filters: dict[str, tuple[str, ...]]
    rules: tuple[str, ...]
    user_budget: BudgetLimits | None = None
    channel_budget: BudgetLimits | None = None
    # Models an allow would grant but that are built from a row-filtered model (unique id -> why not).
    withheld: dict[str, str] = field(default_factory=dict)

    def allows(self, node: DbtNode) -> bool:
        return self.admitted and node.unique_id in self.allowed

    def refusal_for(self, node: DbtNode) -> str:
        """Why `node` may not be read, in one sentence for the model and the audit."""
        return f"Not allowed: {self.withheld.get(node.unique_id) or f'{node.name} is not among the models you may read'}."

    def hidden_columns(self, node: DbtNode) -> dict[str, HiddenReason]:
        """Lower-case column name -> why the principal may not see it."""
        return self.hidden.get(node.unique_id, {})

    def visible_columns(self, node: DbtNode) -> tuple[DbtColumn, ...]:
        hidden = self.hidden_columns(node)
        return tuple(column for column in node.columns if column.name.lower() not in hidden)

    def visible_node(self, node: DbtNode) -> DbtNode:
        """The node as this principal may see it: hidden columns and keys taken out."""
        hidden = self.hidden_columns(node)
        if not hidden:
            return node
        return replace(
            node,
            columns=self.visible_columns(node),
            unique_keys=tuple(key for key in node.unique_keys if key.lower() not in hidden),
            not_null_columns=tuple(name for name in node.not_null_columns if name.lower() not in hidden),
            joins=tuple(join for join in node.joins if join.column.lower() not in hidden),
        )


def resolve_access(
    policy: PolicyFile, principal: Principal, index: DbtIndex, *, slack_default: SlackDefault
) -> Access:
    """Apply the rules matching `principal`: most specific allow wins, every deny applies, deny beats allow."""
    matched = matching_rules(policy.rules, principal)
    names = tuple(m.rule.name for m in matched)
    nodes = index.nodes()
    if principal.is_slack and not names_slack_place(policy.rules, principal):
        default = policy.default_slack_access or slack_default
        if default == "deny" and not any(m.level in (USER, GROUP) for m in matched):
            return _refused(principal, names, "no rule of the policy lets this channel ask")
    if refusal := _admission_refusal(matched, principal):
        return _refused(principal, names, refusal)
    allowed = _allowed(index, nodes, matched)
    rules = [m.rule for m in matched]
    hidden = {node.unique_id: columns for node in nodes if (columns := _hidden(node, rules))}
    filters: dict[str, tuple[str, ...]] = {}
    filtered_by: dict[str, str] = {}
    for node in nodes:
        by_rule = [
            (rule.name, p)
            for rule in rules
            for model, p in rule.row_filters.items()
            if _model_matches(node, model)
        ]
        if by_rule:
            filters[node.unique_id] = tuple(p for _, p in by_rule)
            filtered_by[node.unique_id] = by_rule[0][0]
    withheld = _derived_from_filtered(index, nodes, rules, filtered_by, allowed)
    user_budget, channel_budget = _budgets(matched)
    return Access(
        principal,
        True,
        None,
        frozenset(allowed - withheld.keys()),
        hidden,
        filters,
        names,
        user_budget,
        channel_budget,
        withheld,
    )


def _derived_from_filtered(
    index: DbtIndex, nodes: list[DbtNode], rules: list[Rule], filtered_by: dict[str, str], allowed: set[str]
) -> dict[str, str]:
    """Allowed models built (directly or further down the dbt graph) from a row-filtered one, with why each
    is withheld. Such a model holds the filtered model's rows unfiltered (an aggregate counts every row), so it
    is refused unless a rule names it: with a row filter of its own, or by its exact name in `allow`."""
    by_id = {node.unique_id: node for node in nodes}
    named = {name.lower() for rule in rules for name in rule.allow or [] if not _is_selector(name)}
    # One walk down the graph from every filtered model at once (not one per model: a large project may
    # filter hundreds), each node reached remembering the filtered model it was first reached from.
    origin = {uid: uid for uid in sorted(filtered_by, key=lambda uid: by_id[uid].name)}
    frontier = deque(origin)
    while frontier:
        parent = frontier.popleft()
        for child in index.downstream(by_id[parent]):
            if child.unique_id not in origin:
                origin[child.unique_id] = origin[parent]
                frontier.append(child.unique_id)
    withheld: dict[str, str] = {}
    for derived, source in origin.items():
        node = by_id.get(derived)
        if node is None or derived not in allowed or derived in filtered_by:
            continue
        if node.name.lower() in named or node.unique_id.lower() in named:
            continue
        withheld[derived] = (
            f"{node.name} is built from {by_id[source].name}, whose rows are filtered for you (row filter of "
            f"rule {filtered_by[source]!r}), and would show them unfiltered; a rule must give {node.name} "
            "a row filter of its own or allow it by name"
        )
    return withheld


def _is_selector(name: str) -> bool:
    """A glob, tag:, path:, source: or graph selector: it does not name one model explicitly."""
    return any(mark in name for mark in "*?[:+")


def _budgets(matched: list[MatchedRule]) -> tuple[BudgetLimits | None, BudgetLimits | None]:
    """The per-user and per-channel limits of the most specific matching rules that set them."""
    chosen: dict[str, tuple[int, BudgetLimits]] = {}
    for m in matched:
        budgets = m.rule.budgets
        for kind, limits in (
            ("user", budgets.per_user if budgets else None),
            ("channel", budgets.per_channel if budgets else None),
        ):
            if limits is not None and (kind not in chosen or m.level > chosen[kind][0]):
                chosen[kind] = (m.level, limits)
    user, channel = chosen.get("user"), chosen.get("channel")
    return (user[1] if user else None), (channel[1] if channel else None)


def unrestricted(principal: Principal, index: DbtIndex) -> Access:
    """Everything, nothing hidden: the terminal and the demo without a policy file."""
    every = frozenset(node.unique_id for node in index.nodes())
    return Access(principal, True, None, every, {}, {}, ())


def _refused(principal: Principal, names: tuple[str, ...], reason: str) -> Access:
    return Access(principal, False, reason, frozenset(), {}, {}, names)


def _admission_refusal(matched: list[MatchedRule], principal: Principal) -> str | None:
    if principal.is_guest and not _most_specific(matched, "allow_guests"):
        return "guest accounts may not ask unless a rule allows them (allow_guests)"
    if principal.is_external and not _most_specific(matched, "allow_external"):
        return "people from other workspaces may not ask unless a rule allows them (allow_external)"
    return None


def _most_specific(matched: list[MatchedRule], field: Literal["allow_guests", "allow_external"]) -> bool:
    said = [(m.level, getattr(m.rule, field)) for m in matched if getattr(m.rule, field) is not None]
    if not said:
        return False
    top = max(level for level, _ in said)
    return all(value for level, value in said if level == top)  # At one level, a refusal beats a welcome.


def _allowed(index: DbtIndex, nodes: list[DbtNode], matched: list[MatchedRule]) -> set[str]:
    every = {node.unique_id for node in nodes}
    who = _chain_choice(index, nodes, [m for m in matched if m.level in (USER, GROUP)])
    where = _chain_choice(index, nodes, [m for m in matched if m.level == PLACE])
    if who is None and where is None:
        # Neither who asks nor where is named: the `everyone` rules' allow, else every model.
        base = _chain_choice(index, nodes, [m for m in matched if m.level == EVERYONE])
        allowed = every if base is None else base
    else:
        allowed = (every if who is None else who) & (every if where is None else where)
    for m in matched:
        for selector in m.rule.deny:
            allowed -= _select(index, nodes, selector)
    return allowed


def _chain_choice(index: DbtIndex, nodes: list[DbtNode], chain: list[MatchedRule]) -> set[str] | None:
    """The allow list of the most specific rules in a chain that have one; None when none does."""
    with_allow = [m for m in chain if m.rule.allow is not None]
    if not with_allow:
        return None
    top = max(m.level for m in with_allow)
    chosen: set[str] = set()
    for m in with_allow:
        if m.level == top:
            for selector in m.rule.allow or []:
                chosen |= _select(index, nodes, selector)
    return chosen


def _select(index: DbtIndex, nodes: list[DbtNode], selector: str) -> set[str]:
    try:
        return {node.unique_id for node in select_nodes(index, selector, nodes)}
    except SelectionError:
        return set()  # A selector naming a model that is gone allows nothing, and denies nothing new.


def _hidden(node: DbtNode, rules: list[Rule]) -> dict[str, HiddenReason]:
    hidden: dict[str, HiddenReason] = {}
    for column in node.columns:
        name = column.name.lower()
        if any(_column_matches(node, name, p) for rule in rules for p in rule.deny_columns):
            hidden[name] = "denied"
        elif any(_column_matches(node, name, p) for rule in rules for p in rule.mask_columns):
            hidden[name] = "masked"
        elif is_sensitive(column.name, column.meta, table=node.name) and not any(
            _column_matches(node, name, p) for rule in rules for p in rule.allow_sensitive_columns
        ):
            hidden[name] = "sensitive"
    return hidden


def _column_matches(node: DbtNode, column: str, pattern: str) -> bool:
    model, _, wanted = pattern.lower().rpartition(".")
    return fnmatch.fnmatchcase(column, wanted) and _model_matches(node, model)


def _model_matches(node: DbtNode, pattern: str) -> bool:
    lowered = pattern.lower()
    return fnmatch.fnmatchcase(node.name.lower(), lowered) or fnmatch.fnmatchcase(
        node.identifier.lower(), lowered
    )
