"""Markdown pieces that every report (validation, EDA, study) writes the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a markdown table; a '|' inside a cell is escaped."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    return [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell(value) for value in row) + " |" for row in rows),
    ]


def format_triple(values: Sequence[float], digits: int) -> str:
    """'r, g, b' with ``digits`` decimals."""
    return ", ".join(f"{v:.{digits}f}" for v in values)
