"""Questions to suggest to a new user, drawn from the project's own metrics and marts."""

from __future__ import annotations

from tools.dbt.index import DbtIndex


def suggested_questions(index: DbtIndex, limit: int = 4) -> list[str]:
    """A few questions this project can answer, for Slack's suggested prompts and the terminal greeting."""
    questions: list[str] = []
    for metric in index.metrics()[:2]:
        label = (getattr(metric, "label", None) or metric.name).replace("_", " ")
        questions.append(f"How did {label} change over the last 3 months?")
    overview = index.overview()
    for mart in list(getattr(overview, "main_marts", []))[:3]:
        name = mart if isinstance(mart, str) else getattr(mart, "name", str(mart))
        questions.append(f"What does {name} contain, and what are its key columns?")
    questions.append("Which models would I use to analyse customers?")
    unique = list(dict.fromkeys(questions))
    return unique[:limit]
