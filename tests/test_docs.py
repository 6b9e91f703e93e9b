"""The README stays true: every setting documented, and CI runs the README's own test command."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _fenced_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README, flags=re.DOTALL)


def test_every_setting_is_documented_in_the_readme() -> None:
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices), name
        variable = str(alias.choices[0])
        assert f"`{variable}`" in README, f"{variable} is missing from README.md's configuration table"
        assert field.description, f"setting {name} has no help text"


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(command for command in _fenced_commands() if "pytest" in command)
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci_script.splitlines()


def test_readme_install_command_starts_the_demo_chat() -> None:
    install = _fenced_commands()[0]
    assert "pip install -e ." in install and "blueprintdata chat" in install
