"""Lists of names as short text, for the reports and for the messages of the checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def preview(items: Sequence[Any], limit: int, code: bool = False) -> str:
    """The first ``limit`` items (in backticks if ``code``) and how many more there are."""
    shown = ", ".join(f"`{item}`" if code else str(item) for item in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
