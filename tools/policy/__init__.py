"""Who may read what: the policy file, principals, and enforcement for every tool (see README "Who can ask what")."""

from tools.policy.access import Access
from tools.policy.engine import PolicyEngine
from tools.policy.principal import Principal
from tools.policy.tool_policy import PolicyDecision, ToolPolicy
from tools.policy.warehouse import PolicedWarehouse

__all__ = ["Access", "PolicedWarehouse", "PolicyDecision", "PolicyEngine", "Principal", "ToolPolicy"]
