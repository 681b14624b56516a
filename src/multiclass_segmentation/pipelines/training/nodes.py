"""Nodes of the training pipeline."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

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


def plot_learning_curves(history: list[dict[str, Any]], classes: ClassesParams) -> Figure:
    """Training loss, validation Dice per class and mDice, and the learning rate per epoch."""
    epochs = [e["epoch"] for e in history]
    fig, (ax_loss, ax_dice, ax_lr) = plt.subplots(1, 3, figsize=(15, 4))
    ax_loss.plot(epochs, [e["train_loss"] for e in history], marker="o", color="black")
    ax_loss.set(title="Training loss", xlabel="epoch", ylabel="loss")
    for class_id in classes.ids:
        name = classes.name_of(class_id)
        values = [e["val_dice"].get(name) for e in history]
        ax_dice.plot(
            epochs,
            [float("nan") if v is None else v for v in values],
            marker=".",
            color=classes.rgb_of(class_id),
            label=f"Dice {name}",
        )
    ax_dice.plot(
        epochs,
        [float("nan") if e["val_mdice"] is None else e["val_mdice"] for e in history],
        marker="o",
        color="black",
        linewidth=2,
        label="mDice",
    )
    ax_dice.set(title="Validation Dice", xlabel="epoch", ylabel="Dice", ylim=(0, 1))
    ax_dice.legend(loc="lower right")
    ax_lr.plot(epochs, [e["lr"] for e in history], marker="o", color="tab:purple")
    ax_lr.set(title="Learning rate (end of epoch)", xlabel="epoch", ylabel="lr")
    ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    fig.tight_layout()
    return fig
