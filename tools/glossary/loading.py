"""Reading a glossary file: YAML validated by pydantic, errors naming the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlglot import exp

from tools.errors import ConfigError
from tools.glossary.entries import Glossary, GlossaryEntry
from tools.yaml_text import YamlTextError, load_yaml

DEFAULT_GLOSSARY_NAME = "blueprintdata_glossary.yml"


class GlossaryError(ConfigError):
    """The glossary file cannot be read, or an entry in it is invalid; the message names file, entry and field."""


class _EntrySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list, description="Models this entry is answered from.")


class TermSpec(_EntrySpec):
    """A business word and what the team means by it."""

    definition: str = Field(min_length=1)


class MetricSpec(_EntrySpec):
    """A business metric, computed by SQL, by an expression over a model, or by a dbt metric."""

    label: str | None = None
    description: str = ""
    sql: str | None = None
    expression: str | None = None
    model: str | None = None
    metric: str | None = Field(None, description="Name of a dbt semantic-layer metric.")

    @model_validator(mode="after")
    def _one_way_to_compute(self) -> MetricSpec:
        given = [key for key in ("sql", "expression", "metric") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `sql` (a SELECT), `expression` with `model`, or `metric` (a dbt metric)"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if self.expression and not self.model:
            raise ValueError("`expression` needs `model`: the model it is computed on")
        return self


class GlossaryFile(BaseModel):
    """The whole file: terms and metrics."""

    model_config = ConfigDict(extra="forbid")

    terms: list[TermSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)


def load_glossary(path: Path) -> Glossary:
    """Read and validate a glossary file; GlossaryError names the file, the entry and the field at fault."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GlossaryError(
            f"Cannot read the glossary file {path}: {exc.strerror}. Fix BLUEPRINTDATA_GLOSSARY_FILE."
        ) from None
    except UnicodeDecodeError as exc:
        raise GlossaryError(
            f"Glossary file {path} is not UTF-8 text (byte {exc.start}): is it the right file? "
            "A glossary is YAML with `terms:` and/or `metrics:` lists."
        ) from None
    except YamlTextError as exc:
        raise GlossaryError(f"Glossary file {path} is {exc}.") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise GlossaryError(f"Glossary file {path} must be a mapping with `terms:` and/or `metrics:` lists.")
    try:
        spec = GlossaryFile.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(error, raw) for error in exc.errors()]
        raise GlossaryError(f"Invalid glossary file {path}: " + "; ".join(problems)) from None
    entries = [_term(term, position) for position, term in enumerate(spec.terms)]
    entries += [_metric(metric, position) for position, metric in enumerate(spec.metrics)]
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.name.lower() in seen:
            raise GlossaryError(
                f"Invalid glossary file {path}: {entry.location} {entry.name!r} has the same name as "
                f"{seen[entry.name.lower()]}; give each entry its own name."
            )
        seen[entry.name.lower()] = entry.location
    return Glossary(path, tuple(entries))


def _describe(error: Any, raw: dict[str, Any]) -> str:
    """`metrics[1] 'churn_rate', field 'sql': ...` from a pydantic error location."""
    location = list(error["loc"])
    if len(location) >= 2 and isinstance(location[1], int):
        section, position = str(location[0]), location[1]
        items = raw.get(section)
        item = items[position] if isinstance(items, list) and position < len(items) else None
        name = item.get("name") if isinstance(item, dict) else None
        entry = f"{section}[{position}]" + (f" {name!r}" if name else "")
        fields = ".".join(str(part) for part in location[2:])
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{entry}, field {fields!r}: {message}" if fields else f"{entry}: {message}"
    return f"field {'.'.join(str(p) for p in location) or 'file'!r}: {error['msg']}"


def _term(spec: TermSpec, position: int) -> GlossaryEntry:
    return GlossaryEntry(
        kind="term",
        name=spec.name,
        label=spec.name,
        synonyms=tuple(spec.synonyms),
        definition=spec.definition,
        models=tuple(spec.models),
        location=f"terms[{position}]",
    )


def _metric(spec: MetricSpec, position: int) -> GlossaryEntry:
    models = ([spec.model] if spec.model else []) + spec.models
    return GlossaryEntry(
        kind="metric",
        name=spec.name,
        label=spec.label or spec.name,
        synonyms=tuple(spec.synonyms),
        definition=spec.description,
        models=tuple(dict.fromkeys(models)),
        tables=tuple(sql_tables(spec.sql)) if spec.sql else (),
        sql=spec.sql,
        expression=spec.expression,
        dbt_metric=spec.metric,
        location=f"metrics[{position}]",
    )


def sql_tables(sql: str) -> list[str]:
    """The tables a SELECT reads (CTE names left out); none when the SQL does not parse."""
    try:
        statements = sqlglot.parse(sql)
    except sqlglot.errors.SqlglotError:
        return []
    found: list[str] = []
    for statement in statements:
        if statement is None:
            continue
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if table.name and table.name.lower() not in ctes:
                found.append(".".join(part for part in (table.catalog, table.db, table.name) if part))
    return list(dict.fromkeys(found))
