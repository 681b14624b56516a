"""Learning-curve figures of one run and of every hypothesis, from hand-made histories."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.report.training_figures import (
    epoch_series,
    learning_curves_comparison_figure,
    learning_curves_figure,
)
from tests.pipelines.reporting.builders import history

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
EVALUATION = EvaluationParams(target_mdice=0.75)
HISTORY = [
    {
        "epoch": epoch,
        "train_loss": 1.0 / epoch,
        "lr": 1e-3,
        "val_mdice": 0.5,
        "val_fg_mdice": 0.4,
        "val_dice": {"background": 0.9, "cat": 0.3, "dog": None},
        "seconds": 1.0,
    }
    for epoch in (1, 2)
]


def test_epoch_series_reads_nested_values_and_marks_missing_ones_nan():
    epochs, cat = epoch_series(HISTORY, "val_dice", "cat")
    _, dog = epoch_series(HISTORY, "val_dice", "dog")
    _, absent = epoch_series(HISTORY, "val_dice", "cow")
    assert (epochs, cat) == ([1, 2], [0.3, 0.3])
    assert all(math.isnan(v) for v in dog + absent)


def test_learning_curves_show_loss_every_class_in_its_colour_and_the_learning_rate():
    figure = learning_curves_figure(HISTORY, CLASSES)
    ax_loss, ax_dice, ax_lr = figure.axes
    assert [ax.get_title() for ax in figure.axes] == [
        "Training loss",
        "Validation Dice",
        "Learning rate (end of epoch)",
    ]
    assert list(ax_loss.get_lines()[0].get_ydata()) == [1.0, 0.5]
    labels = [line.get_label() for line in ax_dice.get_lines()]
    assert labels == ["Dice background", "Dice cat", "Dice dog", "mDice"]
    assert to_rgb(ax_dice.get_lines()[1].get_color()) == to_rgb("orange")
    assert list(ax_lr.get_lines()[0].get_ydata()) == [1e-3, 1e-3]


def test_comparison_draws_one_line_per_hypothesis_in_its_own_colour():
    figure = learning_curves_comparison_figure(
        {"base": history(4, 0.6), "unet_r34": history(6, 0.8)}, EVALUATION
    )
    ax_dice, ax_loss = figure.axes
    assert ax_dice.get_xlabel() == "epoch"
    assert ax_loss.get_ylabel() == "loss"
    loss_lines = {line.get_label(): line for line in ax_loss.get_lines()}
    assert list(loss_lines["unet_r34"].get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert loss_lines["base"].get_color() != loss_lines["unet_r34"].get_color()
    mdice = [line for line in ax_dice.get_lines() if line.get_marker() == "o"]
    assert max(mdice[1].get_ydata()) == pytest.approx(0.8)
    foreground = [line for line in ax_dice.get_lines() if line.get_linestyle() == "--"]
    assert np.allclose(foreground[0].get_ydata(), [0.6 * e / 4 - 0.1 for e in (1, 2, 3, 4)])
    assert [line.get_ydata()[0] for line in ax_dice.get_lines() if line.get_linestyle() == ":"] == [
        0.75
    ]


def test_comparison_without_history_says_so():
    figure = learning_curves_comparison_figure({}, EVALUATION)
    assert [text.get_text() for text in figure.axes[0].texts] == ["No training history saved yet."]
