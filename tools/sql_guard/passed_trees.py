"""The syntax trees of statements the guard passed, by the SQL it rendered for them.

run_query hands the policy the guard's rendering (CheckedQuery.sql); the policy then reads the very tree the
guard checked rather than parsing the same text again, which was a quarter of its cost per query. A private
copy is kept, so a caller that changes CheckedQuery.expression cannot change what the policy later reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlglot import exp

# As many as check_read_only caches: the statements of the turns in flight.
_KEPT = 128

_trees: OrderedDict[tuple[str, str], exp.Query] = OrderedDict()
_lock = threading.Lock()


def remember_passed(sql: str, dialect: str, tree: exp.Query) -> None:
    """Keep a copy of `tree`, which the guard passed and rendered as `sql` in `dialect`."""
    kept = tree.copy()
    for node in kept.walk():
        # The rendering has no comments (comments=False): neither has the tree read in its place.
        node.comments = None
    with _lock:
        _trees[(sql, dialect)] = kept
        _trees.move_to_end((sql, dialect))
        while len(_trees) > _KEPT:
            _trees.popitem(last=False)


def passed_tree(sql: str, dialect: str) -> exp.Query | None:
    """A copy (the caller's to change) of the tree the guard passed and rendered as `sql`; None if none is kept."""
    with _lock:
        kept = _trees.get((sql, dialect))
        if kept is not None:
            _trees.move_to_end((sql, dialect))
    # Copied outside the lock: the kept tree is never changed, so concurrent copies are safe.
    return kept.copy() if kept is not None else None
