"""Typed errors. The CLI turns every :class:`WidthDesignError` into one ``Error: ...`` line."""

from __future__ import annotations


class WidthDesignError(Exception):
    """Base class of every error widthdesign raises on purpose."""


class SpecError(WidthDesignError, ValueError):
    """An architecture spec is malformed or describes an impossible network.

    The message names the field, the value found and what was expected.
    """

    def __init__(self, field: str, value: object, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field} = {_short(value)}: expected {expected}")


class PartitionError(WidthDesignError, ValueError):
    """A partition spec is malformed or does not fit the architecture."""


class VerifyError(WidthDesignError):
    """The numeric verifier refuses a network (too large to form its grid tensor)."""


class BudgetError(WidthDesignError, ValueError):
    """A compute budget is infeasible or a width-search problem is malformed."""


def _short(value: object, limit: int = 60) -> str:
    if isinstance(value, int) and value.bit_length() > 4000:
        return f"<an integer of {value.bit_length()} bits>"  # str() of it may be refused
    if isinstance(value, (list, tuple)) and len(value) > 1000:
        return f"<a list of {len(value)} items>"
    if isinstance(value, str) and len(value) > limit:
        # keep the end: for a file path that is the file's name
        return repr("..." + value[-(limit - 5) :])
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # deeply nested lists, ints past 4300 digits
        return f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
