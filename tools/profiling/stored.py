"""How tools read and keep model profiles; the agent's store (agent.store.profiles.ProfileStore) implements it."""

from __future__ import annotations

from typing import Protocol

from tools.profiling.profile import ModelProfile


class StoredProfiles(Protocol):
    """The profiles a tool may read: each model's newest successful one."""

    def latest(self, unique_id: str) -> ModelProfile | None:
        """The newest successful profile of a model, or None when it was never profiled."""
        ...


class ProfileSnapshot(Protocol):
    """Every model's newest successful profile at once: what search's value index reads."""

    def all(self) -> dict[str, ModelProfile]:
        """The newest successful profile of every profiled model, by unique id."""
        ...

    def changes_token(self) -> str | None:
        """A token that is replaced whenever a profile is saved: all() need be read again only when it has
        changed. None when it cannot say (all() is then read each time)."""
        ...


class ProfileHistory(StoredProfiles, ProfileSnapshot, Protocol):
    """Every profiling attempt, as `sync` reads and extends it."""

    def latest_attempts(self) -> dict[str, ModelProfile]:
        """The newest attempt of every model, failed or not."""
        ...

    def save(self, profile: ModelProfile) -> None:
        """Keep one profiling attempt, successful or not."""
        ...
