"""What every turn costs before the question: the system prompt (with the project overview) and the tool
schemas, in tokens, on a generated 669-model project and on the demo project.

Tokens are estimated as characters / 4 (the anthropic SDK counts tokens only through the API, which a
benchmark must not call); English prose and JSON run at about 3.5 to 4.5 characters a token.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

from agent.prompts import system_prompt
from benchmarks.bench_dbt_index import write_project
from demo.load import DEMO_PROJECT_DIR
from tools.catalog import default_tools
from tools.dbt.index import DbtIndex, load_index

MODELS = 669
TARGET_TOKENS = 6_000


def tokens(text: str) -> int:
    return round(len(text) / 4)


def costs(index: DbtIndex) -> dict[str, int]:
    overview = index.overview().to_prompt_text()
    prompt = system_prompt(project_overview=overview, dialect="duckdb", today=date(2026, 1, 1))
    schemas = json.dumps([tool.anthropic_schema() for tool in default_tools()])
    return {
        "system prompt without overview": tokens(prompt) - tokens(overview),
        "project overview": tokens(overview),
        "tool schemas": tokens(schemas),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_project(Path(folder), MODELS)
        projects = {f"generated, {MODELS} models": load_index(Path(folder))}
    projects["demo project"] = load_index(DEMO_PROJECT_DIR)
    print("tokens estimated as characters / 4")
    for name, index in projects.items():
        parts = costs(index)
        total = sum(parts.values())
        print(f"{name}: " + ", ".join(f"{part} {count:,}" for part, count in parts.items()))
        print(f"  total {total:,} tokens per turn before the question (target <= {TARGET_TOKENS:,})")


if __name__ == "__main__":
    main()
