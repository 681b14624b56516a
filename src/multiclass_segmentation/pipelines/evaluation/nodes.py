"""Nodes of the evaluation pipeline.

The scoring lives in ``multiclass_segmentation.core.scoring`` and the figures in
``multiclass_segmentation.report.evaluation_figures``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.results import Metrics
from multiclass_segmentation.core.scoring import predictions, score_predictions, study_results
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.report import evaluation_figures


def evaluate_split(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    dataset: DatasetParams,
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> dict[str, Any]:
    """Predicts and scores one validated split in batches; no prediction outlives its batch."""
    return score_predictions(
        predictions(segmenter, manifest, dataset.root, evaluation, "Evaluating"),
        classes,
        evaluation,
    )


def assemble_metrics(
    val_scores: dict[str, Any],
    test_scores: dict[str, Any],
    segmenter: Segmenter,
    evaluation: EvaluationParams,
    hypothesis: str,
) -> dict[str, Any]:
    """This run's metrics.json: validation and test scores and what produced them."""
    return Metrics(
        hypothesis=hypothesis,
        evaluated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=segmenter.info,
        tta=evaluation.tta.model_dump(),
        target_mdice=evaluation.target_mdice,
        val=val_scores,
        test=test_scores,
    ).to_json()


def update_study_results(
    previous: dict[str, Any], metrics: dict[str, Any], evaluation: EvaluationParams
) -> dict[str, Any]:
    """results.json in the study's shape; this hypothesis's entry is replaced, others kept.

    The best model is chosen by validation mDice (never by test); its test mDice
    is compared with the target.
    """
    return study_results(previous, metrics, evaluation.target_mdice)


def plot_error_examples(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    dataset: DatasetParams,
    scores: dict[str, Any],
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> Figure:
    """The best and worst test images by per-image Dice: image, truth, prediction, errors.

    Only the drawn images are read and predicted again, so the split's
    predictions need not be kept.
    """
    return evaluation_figures.error_examples_figure(
        segmenter, manifest, dataset, scores, classes, evaluation
    )


def plot_confusion_and_size_recall(scores: dict[str, Any], classes: ClassesParams) -> Figure:
    """Row-normalised test confusion matrix, and object recall by object size per class."""
    return evaluation_figures.confusion_and_size_recall_figure(scores, classes)
