"""The EDA report (eda.md) from eda.json."""

from __future__ import annotations

from multiclass_segmentation.report.render import render

# Where the ``{name}_figure`` catalog factory saves ``eda_<what>_figure``, relative to
# the markdown report next to the figures folder.
FIGURES_FOLDER = "figures"


def eda_markdown(report: dict) -> str:
    """The EDA report's tables and links to its figures."""
    return render("eda.md.j2", report=report, figures=FIGURES_FOLDER)
