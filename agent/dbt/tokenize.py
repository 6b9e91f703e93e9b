"""Words from names and prose: snake_case and camelCase split, plurals folded, filler words dropped."""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    """a an and are as at be by did do does for from had has have how i in is it its me my of on or our per
    show tell than that the their them there these they this to was we were what when where which who whom why
    will with would you your give list find get all each every many much most more any some over under into
    between during about across""".split()
)


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light plural fold: categories -> category, boxes -> box, orders -> order; short words untouched."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Stemmed words of `text`, stop words removed, in order (repeats kept for term frequency)."""
    spaced = _CAMEL.sub(" ", text).lower()
    return [stem(word) for word in _WORD.findall(spaced) if word not in STOP_WORDS]
