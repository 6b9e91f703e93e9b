"""The dbt semantic layer: metrics and saved queries, from semantic_manifest.json or else manifest.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.building import resolve_reference
from tools.dbt.nodes import DbtMeasure, DbtMetric, DbtSavedQuery
from tools.errors import DbtArtifactError

# MetricFlow can query a time dimension at its own grain and every coarser one.
_SUB_DAY_GRAINS = ("nanosecond", "microsecond", "millisecond", "second", "minute", "hour")
_GRAINS: tuple[str, ...] = (*_SUB_DAY_GRAINS, "day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class _SemanticModel:
    """What metrics need from a semantic model: where it lives, its time dimension and dimensions."""

    name: str
    model: str | None
    relation_name: str | None
    time_dimension: str | None
    grains: tuple[str, ...]
    dimensions: tuple[str, ...]


def _section(artifacts: DbtArtifacts, key: str) -> list[dict[str, Any]]:
    """A semantic-layer section: a list in semantic_manifest.json, a dict by unique id in manifest.json."""
    listed = (artifacts.semantic_manifest or {}).get(key)
    if listed:
        return [item for item in listed if isinstance(item, dict)]
    return [item for item in (artifacts.manifest.get(key) or {}).values() if isinstance(item, dict)]


def _model_name(raw: dict[str, Any], manifest_entry: dict[str, Any]) -> str | None:
    """The dbt model a semantic model is built on: its ref(), its dependency, or its relation's alias."""
    for candidate in (raw.get("model"), manifest_entry.get("model")):
        if candidate and (name := resolve_reference(str(candidate))):
            return name
    for dependency in (manifest_entry.get("depends_on") or {}).get("nodes") or []:
        return str(dependency).rsplit(".", 1)[-1]
    alias = (raw.get("node_relation") or {}).get("alias")
    return str(alias) if alias else None


def _grains_from(grain: str | None) -> tuple[str, ...]:
    if not grain or grain.lower() not in _GRAINS:
        return ()
    return _GRAINS[_GRAINS.index(grain.lower()) :]


def _semantic_models(artifacts: DbtArtifacts) -> tuple[dict[str, _SemanticModel], dict[str, DbtMeasure]]:
    """Semantic models by name, and every measure by name."""
    in_manifest = {
        entry.get("name"): entry for entry in (artifacts.manifest.get("semantic_models") or {}).values()
    }
    models: dict[str, _SemanticModel] = {}
    measures: dict[str, DbtMeasure] = {}
    for raw in _section(artifacts, "semantic_models"):
        try:
            name = str(raw.get("name") or "")
            relation = raw.get("node_relation") or {}
            dimensions = [d for d in raw.get("dimensions") or [] if d.get("name")]
            time_dimension = (raw.get("defaults") or {}).get("agg_time_dimension")
            time_grain = next(
                (
                    (d.get("type_params") or {}).get("time_granularity")
                    for d in dimensions
                    if d["name"] == time_dimension
                ),
                None,
            )
            model = _SemanticModel(
                name=name,
                model=_model_name(raw, in_manifest.get(name) or {}),
                relation_name=relation.get("relation_name"),
                time_dimension=time_dimension,
                grains=_grains_from(time_grain),
                dimensions=tuple(str(d["name"]) for d in dimensions),
            )
            models[name] = model
            for measure in raw.get("measures") or []:
                expression = f"{measure.get('agg', '')}({measure.get('expr') or measure['name']})"
                measures[measure["name"]] = DbtMeasure(
                    measure["name"], expression, name, model.model, model.relation_name
                )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # shapes.py checks what we read; a shape it does not know costs this semantic model, not the project.
            artifacts.warnings.append(
                f"semantic model {raw.get('name')!r}: cannot be read ({exc!r}); left out"
            )
    return models, measures


def _filters(*holders: Any) -> tuple[str, ...]:
    """The where_sql_template of each filter found on a metric or its inputs."""
    found: list[str] = []
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        where = holder.get("filter")
        if isinstance(where, dict):
            found += [str(f.get("where_sql_template")) for f in where.get("where_filters") or []]
        elif isinstance(where, str) and where:
            found.append(where)
    return tuple(dict.fromkeys(text.strip() for text in found if text and text != "None"))


def build_metrics(artifacts: DbtArtifacts) -> list[DbtMetric]:
    """Every metric with its measures, semantic model, model, time dimension, grains, dimensions and filters."""
    models, measures = _semantic_models(artifacts)
    metrics = []
    for raw in _section(artifacts, "metrics"):
        try:
            params = raw.get("type_params") or {}
            measure_names = [m.get("name") for m in params.get("input_measures") or [] if isinstance(m, dict)]
            if isinstance(params.get("measure"), dict) and not measure_names:
                measure_names = [params["measure"].get("name")]
            used = tuple(measures[name] for name in dict.fromkeys(measure_names) if name in measures)
            semantic = models.get(used[0].semantic_model) if used else None
            inputs = [params.get("numerator"), params.get("denominator"), *(params.get("metrics") or [])]
            legacy_model = resolve_reference(
                str(raw.get("model") or "")
            )  # dbt < 1.6 metrics name their model
            metrics.append(
                DbtMetric(
                    name=raw["name"],
                    label=raw.get("label") or raw["name"],
                    description=(raw.get("description") or "").strip(),
                    type=raw.get("type") or raw.get("calculation_method") or "simple",
                    definition=_metric_definition(raw, params, used),
                    model=semantic.model if semantic else legacy_model,
                    time_dimension=semantic.time_dimension if semantic else raw.get("timestamp"),
                    dimensions=semantic.dimensions if semantic else tuple(raw.get("dimensions") or ()),
                    semantic_model=semantic.name if semantic else None,
                    relation_name=semantic.relation_name if semantic else None,
                    measures=used,
                    input_metrics=tuple(
                        str(i["name"]) for i in inputs if isinstance(i, dict) and i.get("name")
                    ),
                    grains=_grains_from(raw.get("time_granularity")) or (semantic.grains if semantic else ()),
                    filters=_filters(raw, params.get("measure"), *inputs),
                )
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # shapes.py checks what we read; a shape it does not know costs this metric, not the project.
            artifacts.warnings.append(f"metric {raw.get('name')!r}: cannot be read ({exc!r}); left out")
    return metrics


def _metric_definition(raw: dict[str, Any], params: dict[str, Any], used: tuple[DbtMeasure, ...]) -> str:
    """How the metric is computed, in one line: an aggregation, a ratio or an expression over metrics."""
    kind = raw.get("type")
    if kind == "ratio":
        numerator = (params.get("numerator") or {}).get("name")
        denominator = (params.get("denominator") or {}).get("name")
        return f"{numerator} / {denominator}"
    if params.get("expr"):
        return str(params["expr"])
    expression = used[0].expression if used else ""
    if kind == "cumulative" and expression:
        cumulative = params.get("cumulative_type_params") or {}
        window = params.get("window") or cumulative.get("window")
        grain = params.get("grain_to_date") or cumulative.get("grain_to_date")
        if isinstance(window, dict):
            return f"{expression} over a trailing {window.get('count')} {window.get('granularity')} window"
        return f"{expression} to date" + (f" within each {grain}" if grain else ", over all time")
    if kind == "conversion":
        conversion = params.get("conversion_type_params") or {}
        base = (conversion.get("base_measure") or {}).get("name")
        converted = (conversion.get("conversion_measure") or {}).get("name")
        return f"conversion from {base} to {converted}"
    return expression or str(raw.get("expression") or raw.get("sql") or "")


def build_saved_queries(artifacts: DbtArtifacts) -> list[DbtSavedQuery]:
    """Every saved query: its metrics, group-by, filters, order and exports."""
    queries = []
    for raw in _section(artifacts, "saved_queries"):
        try:
            params = raw.get("query_params") or {}
            where = params.get("where") or {}
            filters = where.get("where_filters") or [] if isinstance(where, dict) else []
            limit = params.get("limit")
            queries.append(
                DbtSavedQuery(
                    name=raw["name"],
                    label=raw.get("label") or raw["name"],
                    description=(raw.get("description") or "").strip(),
                    metrics=tuple(str(m) for m in params.get("metrics") or ()),
                    group_by=tuple(str(g) for g in params.get("group_by") or ()),
                    where=tuple(
                        str(f.get("where_sql_template")) for f in filters if f.get("where_sql_template")
                    ),
                    order_by=tuple(str(o) for o in params.get("order_by") or ()),
                    limit=int(limit) if isinstance(limit, int) else None,
                    exports=tuple(
                        str(e.get("name")) for e in raw.get("exports") or () if isinstance(e, dict)
                    ),
                )
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # shapes.py checks what we read; a shape it does not know costs this saved query, not the project.
            artifacts.warnings.append(f"saved query {raw.get('name')!r}: cannot be read ({exc!r}); left out")
    return queries


def semantic_manifest_stamp(project_dir: Path) -> tuple[int, int] | None:
    """(mtime, size) of target/semantic_manifest.json, to know when to rebuild; None when there is none."""
    try:
        stat = (project_dir / "target" / "semantic_manifest.json").stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def read_semantic_manifest_text(project_dir: Path) -> str:
    """The raw semantic_manifest.json that MetricFlow parses itself (tools/semantic_layer)."""
    path = project_dir / "target" / "semantic_manifest.json"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DbtArtifactError(f"Cannot read {path}: {exc.strerror}. Run `dbt parse` to create it.") from None
