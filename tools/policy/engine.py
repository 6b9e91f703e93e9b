"""From a question's principal to the ToolPolicy its tools obey: the policy file (if any) and the Slack default."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from tools.dbt.index import DbtIndex
from tools.policy.access import Access, resolve_access, unrestricted
from tools.policy.loading import PolicySource
from tools.policy.principal import Principal
from tools.policy.relations import RelationLookup
from tools.policy.rules import PolicyFile, SlackDefault
from tools.policy.tool_policy import ToolPolicy

_CACHED_ACCESSES = 256


class PolicyEngine:
    """Resolves access per principal, cached until the policy file or the dbt index changes."""

    def __init__(self, policy_file: Path | None, *, slack_default: SlackDefault) -> None:
        self.source = PolicySource(policy_file) if policy_file is not None else None
        self.slack_default = slack_default
        # One instance for "no policy file": the cache is keyed by the policy's id, so a new empty policy per
        # call would miss it every time (and fill it with copies of one answer).
        self._no_policy = PolicyFile()
        self._cache: OrderedDict[tuple[int, int, Principal], tuple[PolicyFile, DbtIndex, Access]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        # Relation lookups per index (kept with it, so its id is not reused) and dialect, shared by every turn.
        self._lookups: tuple[DbtIndex, dict[str, RelationLookup]] | None = None

    def access(self, principal: Principal, index: DbtIndex) -> Access:
        """What `principal` may read. Without a policy file the terminal and alerts see everything, as before."""
        if self.source is None and not principal.is_slack:
            return unrestricted(principal, index)
        policy = self.source.current() if self.source is not None else self._no_policy
        key = (id(policy), id(index), principal)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key][2]
        access = resolve_access(policy, principal, index, slack_default=self.slack_default)
        with self._lock:
            # The policy and index are kept with the entry so that their ids are not reused while it lives.
            self._cache[key] = (policy, index, access)
            while len(self._cache) > _CACHED_ACCESSES:
                self._cache.popitem(last=False)
        return access

    def tool_policy(self, principal: Principal, index: DbtIndex) -> ToolPolicy | None:
        """The policy tools consult; None where nothing is restricted (the terminal without a policy file)."""
        if self.source is None and not principal.is_slack:
            return None
        with self._lock:
            if self._lookups is None or self._lookups[0] is not index:
                self._lookups = (index, {})
            lookups = self._lookups[1]
        return ToolPolicy(self.access(principal, index), index, _lookups=lookups)
