"""Which columns hold personal or sensitive data: their values are never stored, shown or sent to the model."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

# dbt `meta` keys that mark a column, e.g. `meta: {pii: true}` or `meta: {sensitive: true}`.
_FLAG_KEYS = frozenset(
    {"pii", "sensitive", "contains_pii", "is_pii", "personal_data", "gdpr", "confidential"}
)
# Values of `meta.tags`, `meta.classification` and similar lists or labels that mark a column.
_LABEL_KEYS = frozenset({"tags", "classification", "data_classification", "sensitivity", "privacy"})
_SENSITIVE_LABELS = frozenset(
    {"pii", "sensitive", "personal", "personal_data", "confidential", "restricted", "secret", "phi", "gdpr"}
)

# Words that name personal data wherever they appear in a column name (split on _ and camelCase).
_SENSITIVE_WORDS = frozenset(
    {
        "email", "mail", "phone", "mobile", "telephone", "fax", "address", "street", "zip", "zipcode",
        "postcode", "postal", "ssn", "passport", "iban", "password", "passwd", "secret", "dob", "born", "birthday",
        "birthdate", "ip", "ipv4", "ipv6", "surname", "firstname", "lastname", "fullname", "username",
    }
)  # fmt: skip
# Word pairs that do: first_name, date_of_birth, credit_card, social_security, tax_id ...
_SENSITIVE_PAIRS = frozenset(
    {
        ("first", "name"), ("last", "name"), ("full", "name"), ("middle", "name"), ("given", "name"),
        ("family", "name"), ("maiden", "name"), ("nick", "name"), ("user", "name"), ("customer", "name"),
        ("contact", "name"), ("person", "name"), ("employee", "name"), ("owner", "name"), ("holder", "name"),
        ("patient", "name"), ("member", "name"), ("display", "name"), ("of", "birth"), ("birth", "date"),
        ("birth", "day"), ("credit", "card"), ("card", "number"), ("social", "security"), ("tax", "id"),
        ("national", "id"), ("license", "number"), ("account", "number"), ("access", "token"),
        ("api", "key"),
    }
)  # fmt: skip
# A bare `name` column is a person's name in tables of people, and a product's or a store's elsewhere.
_PEOPLE_TABLES = re.compile(
    r"(customer|user|person|people|employee|member|contact|patient|client|account|lead|subscriber|author)s?$"
)
_WORD_SPLIT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z0-9])(?=[A-Z])")


def is_sensitive(name: str, meta: Mapping[str, Any] | None = None, *, table: str | None = None) -> bool:
    """True when a column's dbt `meta` marks it, or its name says it holds personal data.

    `table` is the model or table name, used only for a bare `name` column (a person in dim_customers, a
    product in dim_products).
    """
    if meta and _meta_marks_sensitive(meta):
        return True
    words = [word.lower() for word in _WORD_SPLIT.split(name) if word]
    if any(word in _SENSITIVE_WORDS for word in words):
        return True
    if any(pair in _SENSITIVE_PAIRS for pair in itertools.pairwise(words)):
        return True
    if words == ["name"] and table is not None:
        last = [word.lower() for word in _WORD_SPLIT.split(table) if word][-1:]
        return bool(last) and _PEOPLE_TABLES.search(last[0]) is not None
    return False


def _meta_marks_sensitive(meta: Mapping[str, Any]) -> bool:
    for key, value in meta.items():
        lowered = str(key).lower()
        if lowered in _FLAG_KEYS and _truthy(value):
            return True
        if lowered in _LABEL_KEYS and _labels(value) & _SENSITIVE_LABELS:
            return True
    return False


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "no", "0", "none", "public"}
    return bool(value)


def _labels(value: Any) -> set[str]:
    items = value if isinstance(value, list | tuple | set) else [value]
    return {str(item).strip().lower() for item in items}
