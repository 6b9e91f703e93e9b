"""Text from data, the model or a user made harmless for a terminal: no control character reaches it raw.

Escape sequences (CSI such as clear screen, OSC such as the window title or OSC 52, which writes the clipboard)
start with control characters; each one is shown as its escape (ESC as \\x1b), so the terminal prints it rather
than obeying it. Bidirectional overrides and isolates, which can make text read differently from what it is,
are shown as \\u escapes too, and so is every other invisible formatting character (zero-width spaces, bidi
marks, the line and paragraph separators, Unicode tag characters that can smuggle hidden text): Unicode's
categories Cf, Zl and Zp, all but the zero-width joiner that emoji sequences need. Newlines and tabs stay:
answers and tables need them.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI), and every format (Cf),
# line (Zl) and paragraph (Zp) separator character but U+200D, as of Unicode 15; a test checks the list against
# unicodedata.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b\u200c\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd"
    "\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)
_UNSAFE_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def terminal_safe(text: str) -> str:
    """`text` with every control character and bidi override written as a visible escape."""
    # ASCII text can hold only C0 controls and DEL: the short class is several times faster on long output.
    return (_UNSAFE_ASCII if text.isascii() else _UNSAFE).sub(_escaped, text)


def safe_text(text: str, style: str = "") -> Text:
    """A rich Text of `text` made safe: never read as rich markup, never obeyed by the terminal."""
    return Text(terminal_safe(text), style=style)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
