"""Common English words that say nothing about which table a question needs: one list, shared by search's
tokenizer and the benchmark's independent baseline; each adds its own words next to its use."""

from __future__ import annotations

COMMON_ENGLISH = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "did", "do", "does", "for", "from", "had", "has", "have",
    "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "per", "show", "tell", "than",
    "that", "the", "their", "them", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
    "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "give", "list", "find",
    "get", "all", "each", "every"]
)  # fmt: skip
