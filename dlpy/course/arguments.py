"""Checks of arguments at the API boundary that every part of the package shares, so that a bad
value gets the same clear message (the name, the value received, what is expected) everywhere."""

from __future__ import annotations

import numbers


def integer_at_least(name: str, value, minimum: int = 1, unit: str = "") -> int:
    """``value`` as an ``int`` when it is an integer (not a bool) of at least ``minimum``; else a
    ``ValueError`` such as "epochs must be a positive integer, got 0." (``unit`` follows the word
    "integer": " number of characters")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValueError(f"{name} must be {expected}{unit}, got {value!r}.")
    return int(value)
