"""YAML read from our users' files, failing in one line: where and what, never a traceback or a quoted line.

PyYAML quotes the offending line in its messages (a profiles.yml line may hold a password) and its composer
recurses once per nesting level, so `[[[[...]]]]` a few thousand deep raises RecursionError. Every YAML file we
read (glossary, alerts, policies, profiles.yml, dbt_project.yml) goes through `load_yaml`.
"""

from __future__ import annotations

from typing import Any


class YamlTextError(ValueError):
    """The text is not YAML we can read; the message is one line, without the file's own text."""


def load_yaml(text: str) -> Any:
    """`text` read as YAML (safe: plain data only); YamlTextError naming where and what when it cannot be."""
    import yaml  # loaded with the first YAML file, not with every start

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        what = getattr(exc, "problem", None) or getattr(exc, "reason", None) or type(exc).__name__
        raise YamlTextError(f"not valid YAML{where}: {' '.join(str(what).split())}") from None
    except RecursionError:
        raise YamlTextError("not valid YAML: it nests too deeply") from None
