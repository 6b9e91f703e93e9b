"""The policy reads the tree the SQL guard passed instead of parsing the guard's rendering again: the tree is
the guard's own (comment-free, private, copied per reader), and the policy decides exactly as it does on text
it parses itself, for every red-team attempt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demo.load import DEMO_PROJECT_DIR
from tests.redteam.policy_attempts import all_attempts
from tests.test_policy_redteam import ASKER, RED_TEAM_POLICY
from tools.dbt.index import DbtIndex, load_index
from tools.errors import ToolInputError
from tools.policy import PolicyEngine
from tools.sql_guard import SqlRefused, check_read_only
from tools.sql_guard.passed_trees import passed_tree


@pytest.fixture(scope="module")
def index() -> DbtIndex:
    return load_index(DEMO_PROJECT_DIR)


def test_the_guard_keeps_a_private_comment_free_tree_for_its_rendering() -> None:
    checked = check_read_only(
        "SELECT /* why */ status, count(*) FROM fct_orders -- note\nGROUP BY 1", "duckdb"
    )
    kept = passed_tree(checked.sql, "duckdb")
    assert kept is not None and kept.sql(dialect="duckdb") == checked.sql
    assert "why" not in kept.sql(dialect="duckdb", comments=True)
    # Neither the guard's caller (this text is this test's alone) nor a reader can change what the next gets.
    checked.expression.set("group", None)
    kept.set("from", None)
    again = passed_tree(checked.sql, "duckdb")
    assert again is not None and again.sql(dialect="duckdb") == checked.sql
    assert passed_tree(checked.sql, "postgres") is None
    assert passed_tree("SELECT 'never guarded'", "duckdb") is None


def _decision(engine: PolicyEngine, index: DbtIndex, sql: str) -> str:
    policy = engine.tool_policy(ASKER, index)
    assert policy is not None
    try:
        return "ran: " + policy.enforce_sql(sql, "duckdb")
    except ToolInputError as exc:
        # Refusals quote the text the tree was parsed from, from the guard the asker's own: sqlglot's positions
        # point into it, and a function's name keeps the asker's case (the rendering spells it in capitals).
        return "refused: " + re.sub(r"\(Line: \d+, Col: \d+\)", "(position)", exc.message).lower()


def test_the_policy_decides_the_same_from_the_guards_tree(index: DbtIndex, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(RED_TEAM_POLICY)
    engine = PolicyEngine(policy_file, slack_default="allow")
    compared = 0
    for sql in all_attempts():
        try:
            checked = check_read_only(sql, "duckdb")
        except SqlRefused:
            continue
        assert passed_tree(checked.sql, "duckdb") is not None
        # The same statement with a trailing space is text the guard never rendered: the policy parses it.
        assert passed_tree(checked.sql + " ", "duckdb") is None
        assert _decision(engine, index, checked.sql) == _decision(engine, index, checked.sql + " "), sql
        compared += 1
    assert compared > 100
