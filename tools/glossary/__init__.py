"""The team's business glossary: terms, synonyms and metric definitions, read from a YAML file.

A file looks like this (every key but `name` and `definition`/one way to compute is optional):

    terms:
      - name: churned customer
        synonyms: [churn, lapsed customer]
        definition: A customer whose latest order is more than 90 days old.
        models: [dim_customers]
    metrics:
      - name: churn_rate
        sql: SELECT ... FROM dim_customers       # or: expression + model, or: metric (a dbt metric)
"""

from tools.glossary.entries import Glossary, GlossaryEntry
from tools.glossary.loading import DEFAULT_GLOSSARY_NAME, GlossaryError, load_glossary, sql_tables
from tools.glossary.source import GlossarySource

__all__ = [
    "DEFAULT_GLOSSARY_NAME",
    "Glossary",
    "GlossaryEntry",
    "GlossaryError",
    "GlossarySource",
    "load_glossary",
    "sql_tables",
]
