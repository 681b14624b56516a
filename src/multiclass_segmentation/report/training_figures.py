"""Figures of training histories, Kedro-free: one run's learning curves, and every hypothesis's.

A history is the list of a run's epochs as ``fit_segmenter`` returns it: ``epoch``,
``train_loss``, ``lr``, ``val_mdice``, ``val_fg_mdice`` and ``val_dice`` by class name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.report.plotting import class_rgb, hypothesis_colors, message_figure

History = list[dict[str, Any]]


def epoch_series(history: History, *keys: str) -> tuple[list[int], list[float]]:
    """The epochs and, per epoch, the value under ``keys`` (nested); a missing value is NaN."""
    values = []
    for epoch in history:
        value: Any = epoch
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        values.append(np.nan if value is None else value)
    return [epoch["epoch"] for epoch in history], values


def learning_curves_figure(history: History, classes: ClassesParams) -> Figure:
    """One run: training loss, validation Dice per class and mDice, and the learning rate."""
    figure = Figure(figsize=(15, 4))
    ax_loss, ax_dice, ax_lr = figure.subplots(1, 3)
    _plot(ax_loss, history, ("train_loss",), marker="o", color="black")
    ax_loss.set(title="Training loss", xlabel="epoch", ylabel="loss")
    for class_id in classes.ids:
        name = classes.name_of(class_id)
        _plot(
            ax_dice,
            history,
            ("val_dice", name),
            marker=".",
            color=class_rgb(classes, class_id),
            label=f"Dice {name}",
        )
    _plot(ax_dice, history, ("val_mdice",), marker="o", color="black", linewidth=2, label="mDice")
    _dice_axes(ax_dice, "Validation Dice")
    ax_dice.legend(loc="lower right")
    _plot(ax_lr, history, ("lr",), marker="o", color="tab:purple")
    ax_lr.set(title="Learning rate (end of epoch)", xlabel="epoch", ylabel="lr")
    ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    figure.tight_layout()
    return figure


def learning_curves_comparison_figure(
    histories: dict[str, History], evaluation: EvaluationParams
) -> Figure:
    """Every hypothesis: validation mDice and training loss per epoch, one colour each."""
    if not histories:
        return message_figure("Learning curves", "No training history saved yet.")
    colors = hypothesis_colors(histories)
    figure = Figure(figsize=(13, 4.8))
    ax_dice, ax_loss = figure.subplots(1, 2)
    for hypothesis, history in histories.items():
        color = colors[hypothesis]
        _plot(ax_dice, history, ("val_mdice",), marker="o", color=color)
        _plot(ax_dice, history, ("val_fg_mdice",), linestyle="--", color=color)
        _plot(ax_loss, history, ("train_loss",), marker="o", color=color, label=hypothesis)
    ax_dice.axhline(evaluation.target_mdice, color="red", linestyle=":", linewidth=1.5)
    ax_dice.legend(handles=_dice_legend(evaluation.target_mdice), loc="best", fontsize=9)
    _dice_axes(ax_dice, "Validation Dice per epoch")
    ax_loss.set(title="Training loss per epoch", xlabel="epoch", ylabel="loss")
    ax_loss.legend(title="hypothesis", fontsize=9)
    for ax in (ax_dice, ax_loss):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    figure.suptitle(
        "Learning curves of every hypothesis with a saved history (colour = hypothesis)"
    )
    figure.tight_layout()
    return figure


def _plot(ax: Axes, history: History, keys: tuple[str, ...], **style: Any) -> None:
    ax.plot(*epoch_series(history, *keys), **style)


def _dice_axes(ax: Axes, title: str) -> None:
    ax.set(title=title, xlabel="epoch", ylabel="Dice", ylim=(0, 1))


def _dice_legend(target_mdice: float) -> list[Line2D]:
    return [
        Line2D([], [], color="black", marker="o", label="mDice (all classes)"),
        Line2D([], [], color="black", linestyle="--", label="foreground mDice"),
        Line2D([], [], color="red", linestyle=":", label=f"target {target_mdice:g}"),
    ]
