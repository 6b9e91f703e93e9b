"""Text that can be stored and sent anywhere: invalid UTF-8 replaced, never fatal.

Bytes that are not UTF-8 reach Python as lone surrogates (stdin and argv decode with surrogateescape; Slack's JSON
may carry "\\udcff"); no database, JSON encoder or API accepts those, so each becomes U+FFFD.
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with every lone surrogate (an undecodable byte) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)
