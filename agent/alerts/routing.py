"""Where an alert posts and whom it tags, from the dbt project.

Channel, first found wins: the alert's own `channel`; the model's (or source's) `meta.channel`; the
`+meta: {channel: ...}` of the model's folder in dbt_project.yml; the alerts file's default channel.
Owners, all of them: the alert's own `owners`; the model's `meta.owner` and `meta.subscribers`; its dbt group's
owner; its folder's `+meta` owner and subscribers. Each is a Slack id, an @handle, an email or a user group
(`<!subteam^S…>`); the front door turns them into mentions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode
from tools.yaml_text import YamlTextError, load_yaml

_PROJECT_FILE = "dbt_project.yml"


def routed(
    entry: dict[str, Any], defaults: dict[str, Any], index: DbtIndex | None, project_dir: Path | None
) -> dict[str, Any]:
    """The alert entry (defaults applied) with its channel and owners filled in from the dbt project."""
    merged = {**defaults, **entry}
    node = _watched_node(merged, index)
    if node is None:
        return merged
    folder = folder_meta(project_dir, node) if project_dir is not None else {}
    if "channel" not in entry:
        channel = node.meta.get("channel") or folder.get("channel")
        if channel:
            merged["channel"] = str(channel)
    owners = _as_list(merged.get("owners"))
    owners += _as_list(node.meta.get("owner")) + _as_list(node.meta.get("subscribers"))
    owners += list(node.group_owners)
    owners += _as_list(folder.get("owner")) + _as_list(folder.get("subscribers"))
    merged["owners"] = list(dict.fromkeys(owner for owner in owners if owner))
    return merged


def folder_meta(project_dir: Path, node: DbtNode) -> dict[str, Any]:
    """The `+meta` the model's folders set in dbt_project.yml, the deepest folder winning."""
    try:
        project = load_yaml((project_dir / _PROJECT_FILE).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, YamlTextError):
        return {}
    config = (
        ((project.get("models") or {}).get(project.get("name")) or {}) if isinstance(project, dict) else {}
    )
    # models/marts/fct_orders.sql -> ["marts"]: the folders below the model path.
    folders = Path(node.path).parts[1:-1]
    meta: dict[str, Any] = dict(config.get("+meta") or {}) if isinstance(config, dict) else {}
    for folder in folders:
        config = config.get(folder) if isinstance(config, dict) else None
        if not isinstance(config, dict):
            break
        meta.update(config.get("+meta") or {})
    return meta


def _watched_node(entry: dict[str, Any], index: DbtIndex | None) -> DbtNode | None:
    if index is None:
        return None
    name = entry.get("model")
    if not name and entry.get("metric"):
        metric = index.find_metric(str(entry["metric"]))
        name = metric.model if metric is not None else None
    return index.find(str(name)) if name else None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value]
    return [part.strip() for part in str(value).split(",")]
