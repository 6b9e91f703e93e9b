"""Governance in the agent: who is asking this turn (the policy itself lives in tools/policy)."""
