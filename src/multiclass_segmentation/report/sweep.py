"""The sweep report (sweep_<hypothesis>.md) from the sweep's summary JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multiclass_segmentation.report.render import render


def sweep_markdown(summary: dict[str, Any], figures: Mapping[str, str]) -> str:
    """The sweep for people: budget, trials, best against base; ``figures`` maps each
    figure's name to its path relative to the report."""
    return render("sweep.md.j2", summary=summary, figures=figures)
