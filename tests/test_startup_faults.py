"""Start-up faults end in one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import run_cli


def _one_clear_line(stderr: str, *needles: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    joined = " ".join(stderr.split())
    assert all(needle in joined for needle in needles), stderr


def test_a_bad_store_url_option_is_one_line(demo_cli_env: dict[str, str]) -> None:
    env = {
        **demo_cli_env,
        "BLUEPRINTDATA_DATABASE_URL": "postgresql://nobody@127.0.0.1:5432/x?connect_timeout=abc",
    }
    result = run_cli("chat", "-m", "/help", env=env)
    assert result.returncode == 2
    _one_clear_line(result.stderr, "connect_timeout", "BLUEPRINTDATA_DATABASE_URL")


def test_a_store_with_a_password_in_its_options_is_shown_without_it(demo_cli_env: dict[str, str]) -> None:
    url = "postgresql://nobody:hunter2secret@127.0.0.1:5432/x?sslpassword=hunter3secret&connect_timeout=abc"
    result = run_cli("chat", "-m", "/help", env={**demo_cli_env, "BLUEPRINTDATA_DATABASE_URL": url})
    assert result.returncode == 2
    assert "hunter2secret" not in result.stderr and "hunter3secret" not in result.stderr
    _one_clear_line(result.stderr, "sslpassword=***")


def test_slack_out_of_reach_at_start_is_one_line(demo_cli_env: dict[str, str]) -> None:
    env = {
        **demo_cli_env,
        "SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "SLACK_APP_TOKEN": "xapp-1-2-3",
        "BLUEPRINTDATA_SLACK_API_URL": "http://127.0.0.1:1/api/",
        "BLUEPRINTDATA_HEALTH_PORT": "0",
    }
    result = run_cli("slack", env=env)
    assert result.returncode == 2
    _one_clear_line(result.stderr, "Cannot reach Slack at http://127.0.0.1:1/api/")


def test_a_store_directory_that_cannot_be_made_is_one_line(
    demo_cli_env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = {**demo_cli_env, "BLUEPRINTDATA_DATABASE_URL": f"sqlite:///{blocker}/sub/store.db"}
    result = run_cli("chat", "-m", "/help", env=env)
    assert result.returncode == 2
    _one_clear_line(result.stderr, "Cannot start")
