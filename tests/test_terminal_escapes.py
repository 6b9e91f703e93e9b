"""The real CLI in a pseudo-terminal: escape sequences and bidi overrides from data or the model are shown, never
obeyed (no clear screen, no window title, no clipboard write through OSC 52)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import unicodedata

import pytest

from bot.cli.terminal_text import terminal_safe
from tests.fakes.anthropic_api import FakeAnthropic, text_reply

ESC, BEL = "\x1b", "\x07"
CLEAR_SCREEN = f"{ESC}[2J{ESC}[H"
WINDOW_TITLE = f"{ESC}]0;pwned{BEL}"
CLIPBOARD = f"{ESC}]52;c;ZXZpbA=={BEL}"  # OSC 52: "evil" into the clipboard
ONE_BYTE_CSI = "\x9b2J"
RIGHT_TO_LEFT = "\u202egnp.exe"
HOSTILE = (CLEAR_SCREEN, WINDOW_TITLE, CLIPBOARD, ONE_BYTE_CSI, RIGHT_TO_LEFT)
# What a terminal would obey: the sequences as they are.
OBEYED = (f"{ESC}[2J", f"{ESC}]0;", f"{ESC}]52;", "\x9b", "\u202e")


def run_in_terminal(*args: str, env: dict[str, str], timeout: float = 120.0) -> str:
    """Run the CLI with a pseudo-terminal as its stdin, stdout and stderr; everything it wrote."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli.app import main; main()", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"},
        close_fds=True,
    )
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # The terminal closed: the process ended.
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(controller)
    return output.decode("utf-8", errors="replace")


def _assert_shown_not_obeyed(output: str) -> None:
    for sequence in OBEYED:
        assert sequence not in output, repr(sequence)
    assert "\\x1b]0;pwned" in output and "\\x1b]52;c;" in output and "\\u202e" in output


@pytest.fixture
def terminal_env(demo_cli_env: dict[str, str]) -> dict[str, str]:
    env = dict(demo_cli_env)
    env.pop("NO_COLOR", None)  # A real terminal: rich draws colours, spinners and live regions.
    return env


def test_values_from_data_are_shown_escaped_in_a_table(terminal_env: dict[str, str]) -> None:
    literals = ", ".join(f"'{value}' AS v{position}" for position, value in enumerate(HOSTILE))
    output = run_in_terminal("chat", "--demo", "-m", f"/sql SELECT {literals}", env=terminal_env)
    _assert_shown_not_obeyed(output)


def test_a_model_answer_is_shown_escaped(terminal_env: dict[str, str]) -> None:
    with FakeAnthropic() as fake:
        fake.enqueue(text_reply("Here: " + " | ".join(HOSTILE) + " [Reset](https://evil.example/login)"))
        env = {**terminal_env, "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}
        output = run_in_terminal("chat", "--demo", "-m", "what are the statuses?", env=env)
    _assert_shown_not_obeyed(output)
    assert "https://evil.example/login" in output  # A link shows its address.


def test_a_title_with_escapes_is_listed_escaped(terminal_env: dict[str, str]) -> None:
    run_in_terminal("chat", "--demo", "-m", f"/search {WINDOW_TITLE}revenue", env=terminal_env)
    output = run_in_terminal("sessions", env=terminal_env)
    assert f"{ESC}]0;" not in output and "\\x1b]0;pwned" in output


def test_every_invisible_formatting_character_is_shown_escaped() -> None:
    # Deny by default: each Unicode format (Cf), line (Zl) and paragraph (Zp) character is shown as an escape
    # (zero-width spaces hide text, bidi marks reorder it, tag characters smuggle a hidden message), all but
    # the zero-width joiner, which emoji sequences need.
    shown_raw = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in {"Cf", "Zl", "Zp"}
        and code != 0x200D
        and terminal_safe(chr(code)) == chr(code)
    ]
    assert shown_raw == []
    assert terminal_safe("pay\u200bpal \u200fx\u2028y \U000e0041\U000e0042") == (
        "pay\\u200bpal \\u200fx\\u2028y \\U000e0041\\U000e0042"
    )
    assert terminal_safe("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\") == (
        "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"
    )  # An OSC 8 hyperlink: shown, not followed.
    assert terminal_safe("\x90q\x9c \x9d0;t\x9c \u061cx") == "\\x90q\\x9c \\x9d0;t\\x9c \\u061cx"
    assert terminal_safe("family 👨\u200d👩\u200d👧") == "family 👨\u200d👩\u200d👧"


def test_terminal_safe_keeps_text_and_layout() -> None:
    assert terminal_safe("a\tb\nc ünïcode ✓ العربية") == "a\tb\nc ünïcode ✓ العربية"
    assert terminal_safe(f"{CLEAR_SCREEN}x") == "\\x1b[2J\\x1b[Hx"
    assert terminal_safe("\u2066isolated\u2069") == "\\u2066isolated\\u2069"
