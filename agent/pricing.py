"""Estimated cost of a model call, from published per-million-token prices."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per million tokens."""

    input: float
    output: float

    @property
    def cache_write(self) -> float:
        return self.input * 1.25

    @property
    def cache_read(self) -> float:
        return self.input * 0.1


# Matched by prefix, longest first; an unknown model is priced as Sonnet so cost is never silently zero.
_PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-1": ModelPrice(15.0, 75.0),
    "claude-opus-4-0": ModelPrice(15.0, 75.0),
    "claude-opus": ModelPrice(5.0, 25.0),
    "claude-sonnet": ModelPrice(3.0, 15.0),
    "claude-haiku-3": ModelPrice(0.25, 1.25),
    "claude-haiku": ModelPrice(1.0, 5.0),
}
_DEFAULT = _PRICES["claude-sonnet"]


def price_for(model: str) -> ModelPrice:
    """The price list entry that applies to `model`."""
    for prefix in sorted(_PRICES, key=len, reverse=True):
        if model.startswith(prefix):
            return _PRICES[prefix]
    return _DEFAULT


def estimate_cost_usd(
    model: str, *, input_tokens: int, output_tokens: int, cache_creation_tokens: int, cache_read_tokens: int
) -> float:
    """Cost of one call; input_tokens excludes cached tokens, as the API reports them."""
    price = price_for(model)
    total = (
        input_tokens * price.input
        + output_tokens * price.output
        + cache_creation_tokens * price.cache_write
        + cache_read_tokens * price.cache_read
    )
    return round(total / 1_000_000, 6)
