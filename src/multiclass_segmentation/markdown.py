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


def preview(items: Sequence, limit: int) -> str:
    """The first ``limit`` items and how many more there are: 'a, b and 3 more'."""
    return _shown_and_rest([str(item) for item in items[:limit]], len(items))


def code_preview(items: Sequence, limit: int) -> str:
    """:func:`preview` with each item shown as inline code: '`a`, `b` and 3 more'."""
    return _shown_and_rest([f"`{item}`" for item in items[:limit]], len(items))


def _shown_and_rest(shown: list[str], total: int) -> str:
    rest = total - len(shown)
    return f"{', '.join(shown)} and {rest} more" if rest > 0 else ", ".join(shown)


def format_triple(values: Sequence[float], digits: int) -> str:
    """'r, g, b' with ``digits`` decimals."""
    return ", ".join(f"{v:.{digits}f}" for v in values)


def objects_per_image_table(eda_report: dict) -> list[str]:
    """The EDA report's objects-per-image statistics, one row per class and split; the EDA
    and the study report both show it."""
    splits = eda_report["splits"]
    foreground = list(next(iter(splits.values()))["objects_per_image"])
    return markdown_table(
        ["class", "split", "mean", "median", "max", "images without"],
        [
            [name, split, o["mean"], o["median"], o["max"], o["images_without"]]
            for name in foreground
            for split, s in splits.items()
            for o in [s["objects_per_image"][name]]
        ],
    )
