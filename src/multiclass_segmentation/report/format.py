"""How the reports write numbers and cells; the renderer's filters are these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def score(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals, '-' when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def signed(value: float | None, other: float | None, digits: int) -> str:
    """``value - other`` with its sign and ``digits`` decimals, '-' when either is missing."""
    return "-" if value is None or other is None else f"{value - other:+.{digits}f}"


def estimate(
    value: float | None,
    low: float | None,
    high: float | None,
    digits: int,
    sign: bool = False,
) -> str:
    """'0.851 [0.812, 0.890]' (each with its sign if ``sign``): a value and its interval;
    '0.851 [-]' without an interval, '-' without a value."""
    if value is None:
        return "-"
    spec = f"{'+' if sign else ''}.{digits}f"
    if low is None or high is None:
        return f"{value:{spec}} [-]"
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


def mean_interval(statistics: dict | None, digits: int) -> str:
    """A summary's mean and confidence interval, '0.851 [0.812, 0.890]'; the interval is '-'
    for a single run (n == 1), the whole cell '-' without a summary."""
    if not statistics:
        return "-"
    single = (statistics.get("n") or 0) <= 1
    return estimate(
        statistics.get("mean"),
        None if single else statistics.get("ci_low"),
        None if single else statistics.get("ci_high"),
        digits,
    )


def level(confidence: float) -> str:
    """A confidence level (0..1) as a percentage without trailing zeros: '95%', '97.5%'."""
    return f"{100 * confidence:g}%"


def percent(value: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage, '-' when missing."""
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def triple(values: Sequence[float], digits: int) -> str:
    """'r, g, b' with ``digits`` decimals."""
    return ", ".join(f"{v:.{digits}f}" for v in values)


def bucket(bucket: dict) -> str:
    """An object-size bucket as '2%-8%'."""
    return f"{bucket['min_share']:.0%}-{bucket['max_share']:.0%}"


def label(key: str) -> str:
    """A JSON key as words: 'images_without_masks' -> 'images without masks'."""
    return key.replace("_", " ")


def lookup(key: Any, mapping: Mapping, *default: Any) -> Any:
    """``mapping[key]``, or ``mapping.get(key, default)`` given a default:
    ``columns | map("lookup", row, "-")``."""
    return mapping.get(key, *default) if default else mapping[key]


def pairs(mapping: dict, separator: str = ": ") -> str:
    """'key: value, key: value'"""
    return ", ".join(f"{key}{separator}{value}" for key, value in mapping.items())


def short(value: Any) -> str:
    """A float with 4 significant digits; anything else as its text."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def assignments(values: dict, code: bool = False) -> str:
    """'key=value, key=value' (each in backticks if ``code``), floats short."""
    return ", ".join(
        f"`{key}={short(value)}`" if code else f"{key}={short(value)}"
        for key, value in values.items()
    )


def format_each(values: Iterable[Any], template: str) -> list[str]:
    """``template.format(value)`` of each value: ``splits | format_each("{} pixels")``."""
    return [template.format(value) for value in values]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def cell(value: Any) -> str:
    """A markdown table cell: the value's text with '|' escaped."""
    return str(value).replace("|", "\\|")


def table_row(cells: Sequence[Any]) -> str:
    """'| a | b |'"""
    return "| " + " | ".join(cell(value) for value in cells) + " |"


def table_header(cells: Sequence[Any]) -> str:
    """The header row of a markdown table and the row under it."""
    return table_row(cells) + "\n|" + "---|" * len(cells)


def table(rows: Sequence[Sequence[Any]], header: Sequence[Any]) -> str:
    """A whole markdown table, without a final newline."""
    return "\n".join([table_header(header), *(table_row(row) for row in rows)])
