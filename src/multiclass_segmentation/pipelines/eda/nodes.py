"""Nodes of the eda pipeline: statistics of the validated splits, their figures and reports.

``compute_split_statistics`` streams each split's files once, keeping running
sums; every other node works on the ``SplitStatistics`` it returns, one keyword
argument per split (the sample grid reads only the pairs it draws). The
statistics live in ``eda_statistics`` and the figures in ``eda_figures``.
"""

from __future__ import annotations

import logging

import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.analysis.eda_statistics import (
    SplitStatistics,
    class_weight_suggestion,
    eda_report,
    statistics_of_pairs,
)
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.eda import EdaParams
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io import imaging
from multiclass_segmentation.progress import tracked
from multiclass_segmentation.report import eda_figures
from multiclass_segmentation.report.eda import eda_markdown

logger = logging.getLogger(__name__)


def compute_split_statistics(
    manifest: pd.DataFrame, dataset: DatasetParams, classes: ClassesParams, eda: EdaParams
) -> SplitStatistics:
    """Streams the validated pairs of one split from their files (one pair in memory at a time)."""
    rows = tracked(manifest.itertuples(), "EDA statistics", total=len(manifest))
    pairs = ((row.id, *imaging.read_pair(dataset.root, row.image, row.mask)) for row in rows)
    return statistics_of_pairs(pairs, classes, eda)


def suggest_class_weights(
    train_statistics: SplitStatistics, classes: ClassesParams, eda: EdaParams
) -> dict:
    """Class weights for the loss from the train split's pixel counts, both methods.

    ``weights`` repeats the method that ``eda.class_weights_method`` recommends.
    """
    if not train_statistics.class_pixels.any():
        raise BadInputError(
            "The train split has no labelled pixels (all are classes.ignore_index), "
            "so no class weights can be suggested; check its masks."
        )
    absent = [classes.name_of(c) for c in classes.ids if train_statistics.class_pixels[c] == 0]
    if absent:
        logger.warning("Classes %s have no pixels in the train split; their weight is 0.", absent)
    return class_weight_suggestion(train_statistics, classes, eda.class_weights_method)


def build_eda_report(
    classes: ClassesParams,
    eda: EdaParams,
    class_weights: dict,
    **statistics_by_split: SplitStatistics,
) -> dict:
    """The JSON summary: every number of the EDA, per split, plus the suggested weights."""
    return eda_report(classes, eda.min_component_pixels, class_weights, statistics_by_split)


def render_eda_markdown(report: dict) -> str:
    """A short markdown summary of the EDA report: its tables and links to its figures."""
    return eda_markdown(report)


def plot_image_sizes(**statistics_by_split: SplitStatistics) -> Figure:
    """One scatter of image width against height per split, each point labelled with its count."""
    return eda_figures.image_sizes_figure(statistics_by_split)


def plot_class_pixels(classes: ClassesParams, **statistics_by_split: SplitStatistics) -> Figure:
    """Pixels of each class per split as grouped bars on a log scale, labelled with their share."""
    return eda_figures.class_pixels_figure(classes, statistics_by_split)


def plot_objects_per_image(
    classes: ClassesParams, eda: EdaParams, **statistics_by_split: SplitStatistics
) -> Figure:
    """Per split, how many images hold 0, 1, 2, ... objects of each foreground class."""
    return eda_figures.objects_per_image_figure(classes, eda, statistics_by_split)


def plot_object_sizes(
    classes: ClassesParams, eda: EdaParams, **statistics_by_split: SplitStatistics
) -> Figure:
    """Per split, histograms of object area as a fraction of the image area, log x."""
    return eda_figures.object_sizes_figure(classes, eda, statistics_by_split)


def plot_cooccurrence(classes: ClassesParams, **statistics_by_split: SplitStatistics) -> Figure:
    """Per split, a heatmap of how many images contain both class i and class j."""
    return eda_figures.cooccurrence_figure(classes, statistics_by_split)


def plot_sample_grid(
    classes: ClassesParams, eda: EdaParams, dataset: DatasetParams, **manifests: pd.DataFrame
) -> Figure:
    """A row of randomly picked images per split, with their foreground classes overlaid.

    Only the picked pairs are read from disk.
    """
    return eda_figures.sample_grid_figure(classes, eda, dataset, manifests)
