"""The Jinja2 environment of the reports: templates from this package, strict, markdown filters."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from multiclass_segmentation.analysis.text import preview
from multiclass_segmentation.report import format as fmt

FILTERS = {
    "score": fmt.score,
    "signed": fmt.signed,
    "percent": fmt.percent,
    "estimate": fmt.estimate,
    "mean_interval": fmt.mean_interval,
    "level": fmt.level,
    "triple": fmt.triple,
    "bucket": fmt.bucket,
    "preview": preview,
    "label": fmt.label,
    "upper_first": fmt.upper_first,
    "lookup": fmt.lookup,
    "pairs": fmt.pairs,
    "short": fmt.short,
    "assignments": fmt.assignments,
    "format_each": fmt.format_each,
    "cell": fmt.cell,
    "row": fmt.table_row,
    "header": fmt.table_header,
    "table": fmt.table,
    # Python's format(): {{ x | fmt(".4f") }} writes f"{x:.4f}".
    "fmt": format,
}


@cache
def environment() -> jinja2.Environment:
    """Templates of ``report/templates``; a missing variable is an error, not an empty string.

    Block tags on a line of their own leave no line behind (``trim_blocks``,
    ``lstrip_blocks``), and a template's final newline is kept.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("multiclass_segmentation.report", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # markdown, not HTML
    )
    env.filters.update(FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    """``templates/<template>`` rendered with ``context``."""
    return environment().get_template(template).render(**context)
