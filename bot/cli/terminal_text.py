"""Text from data, the model or a user made harmless for a terminal: no control character reaches it raw.

Escape sequences (CSI such as clear screen, OSC such as the window title or OSC 52, which writes the clipboard)
start with control characters; each one is shown as its escape (ESC as \\x1b), so the terminal prints it rather
than obeying it. Bidirectional overrides and isolates, which can make text read differently from what it is,
are shown as \\u escapes too. Newlines and tabs stay: answers and tables need them.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI), and the bidi embedding,
# override and isolate characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every control character and bidi override written as a visible escape."""
    return _UNSAFE.sub(_escaped, text)


def safe_text(text: str, style: str = "") -> Text:
    """A rich Text of `text` made safe: never read as rich markup, never obeyed by the terminal."""
    return Text(terminal_safe(text), style=style)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
