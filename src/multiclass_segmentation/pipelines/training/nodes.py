"""Nodes of the training pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.core.training_run import fit_segmenter, resolve_class_weights
from multiclass_segmentation.integrations.clearml_tasks import tracking_callbacks


def train_model(
    train: pd.DataFrame,
    val: pd.DataFrame,
    dataset: DatasetParams,
    suggested_class_weights: dict[str, Any],
    training: TrainingParams,
    classes: ClassesParams,
    hypothesis: str,
) -> tuple[Segmenter, list[dict[str, Any]]]:
    """Trains the configured model, its curves reported to the run's ClearML task if there is
    one; returns the best epoch's model and the epoch history."""
    class_weights = resolve_class_weights(training, classes, suggested_class_weights)
    return fit_segmenter(
        train,
        val,
        dataset,
        class_weights,
        training,
        classes,
        hypothesis,
        extra_callbacks=tracking_callbacks(),
    )
