"""Figures of the study report, Kedro-free: the test scores of every hypothesis, and every
hypothesis over seeds (its runs, mean and interval)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from multiclass_segmentation.analysis.model_selection import (
    ranked_hypotheses,
    recorded_best_hypothesis,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.report.format import score
from multiclass_segmentation.report.plotting import class_rgb, message_figure

# The two panels: the metric each shows and its title.
PANELS = (("val_mdice", "Validation mDice"), ("test_mdice", "Test mDice"))
# Half the spread of one hypothesis's points around its x position, and half its mean tick.
JITTER = 0.12
TICK = 0.22
CAP = 0.05
COLOR, BEST_COLOR = "tab:blue", "tab:red"


def scores_comparison_figure(
    study_results: dict, classes: ClassesParams, evaluation: EvaluationParams
) -> Figure:
    """Test Dice of each class and test mDice per hypothesis of results.json, with the target."""
    entries = study_results.get("hypotheses", {})
    if not entries:
        return message_figure("Scores by hypothesis", "No hypothesis evaluated yet.")
    ranked = ranked_hypotheses(entries)
    best = recorded_best_hypothesis(study_results)
    positions = np.arange(len(ranked))
    width = 0.8 / (classes.num_classes + 1)
    fig = Figure(figsize=(max(7.0, 2.0 + 1.8 * len(ranked)), 4.8))
    ax = fig.subplots()
    for offset, (label, color, hatch, values) in enumerate(_score_series(entries, ranked, classes)):
        bars = ax.bar(
            positions + offset * width,
            [np.nan if v is None else v for v in values],
            width,
            color=color,
            edgecolor="black",
            hatch=hatch,
            label=label,
        )
        ax.bar_label(bars, labels=[score(v, 2) for v in values], fontsize=7, padding=1)
    ax.axhline(evaluation.target_mdice, color="red", linestyle=":", linewidth=1.5)
    ax.plot([], [], color="red", linestyle=":", label=f"target mDice {evaluation.target_mdice:g}")
    ax.set_xticks(
        positions + width * classes.num_classes / 2,
        [f"{h}\n(best)" if h == best else h for h in ranked],
    )
    ax.set(
        title="Test Dice per class and test mDice by hypothesis",
        xlabel="hypothesis, ranked by validation mDice",
        ylabel="Dice",
        ylim=(0, 1.08),
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _score_series(entries: dict, ranked: list[str], classes: ClassesParams) -> list[tuple]:
    """(label, colour, hatch, value per ranked hypothesis) of each class's test Dice, then mDice."""
    series: list[tuple] = [
        (
            classes.name_of(class_id),
            class_rgb(classes, class_id),
            None,
            [entries[h].get("test_dice", {}).get(classes.name_of(class_id)) for h in ranked],
        )
        for class_id in classes.ids
    ]
    series.append(("mDice", "white", "//", [entries[h].get("test_mdice") for h in ranked]))
    return series


def study_seeds_figure(study: dict) -> Figure:
    """Validation and test mDice of every hypothesis and ensemble of results.json's
    ``"study"``: one point per run (seed), the mean as a horizontal tick and its confidence
    interval as a vertical bar; the best (by mean validation mDice) in red."""
    names = list(study["summary"])
    fig = Figure(figsize=(max(10.0, 2.6 * len(names)), 4.6))
    axes = fig.subplots(1, 2, sharey=False)
    for ax, (metric, title) in zip(axes, PANELS, strict=True):
        for x, name in enumerate(names):
            _draw_hypothesis(ax, x, name, metric, study)
        ax.set_xticks(
            range(len(names)),
            [f"{n}\n(best)" if n == study.get("best") else n for n in names],
            fontsize=9,
            # Long names (base_ensemble, mixed_ensemble) side by side would overlap.
            rotation=20,
            ha="right",
            rotation_mode="anchor",
        )
        for tick, name in zip(ax.get_xticklabels(), names, strict=True):
            if name == study.get("best"):
                tick.set_color(BEST_COLOR)
                tick.set_fontweight("bold")
        ax.set(title=title, ylabel="mDice (all classes)", xlim=(-0.6, len(names) - 0.4))
        ax.grid(axis="y", alpha=0.3)
    confidence = f"{100 * study.get('confidence', 0.95):g}%"
    fig.suptitle(
        f"Every hypothesis over seeds: points are runs, ticks means, bars {confidence} "
        "confidence intervals"
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(
        handles=_legend_handles(confidence),
        loc="lower center",
        ncol=5,
        fontsize=9,
        frameon=False,
    )
    return fig


def _draw_hypothesis(ax: Axes, x: int, name: str, metric: str, study: dict) -> None:
    """One hypothesis's runs (jittered), mean tick and interval bar at ``x``."""
    summary = study["summary"][name]
    color = BEST_COLOR if name == study.get("best") else COLOR
    values = [
        study["runs"][run][metric]
        for run in summary.get("runs", [])
        if study.get("runs", {}).get(run, {}).get(metric) is not None
    ]
    if values:
        offsets = np.linspace(-JITTER, JITTER, len(values)) if len(values) > 1 else [0.0]
        marker = "D" if summary.get("kind") == "ensemble" else "o"
        ax.scatter(
            x + np.asarray(offsets), values, s=18, color=color, alpha=0.8, marker=marker, zorder=5
        )
    statistics = summary.get(metric) or {}
    if statistics.get("mean") is not None:
        ax.hlines(statistics["mean"], x - TICK, x + TICK, color=color, linewidth=2.2, zorder=4)
    if statistics.get("ci_low") is not None and statistics.get("ci_high") is not None:
        low, high = statistics["ci_low"], statistics["ci_high"]
        ax.vlines(x, low, high, color=color, linewidth=1.2, zorder=3)
        ax.hlines([low, high], x - CAP, x + CAP, color=color, linewidth=1.2, zorder=3)


def _legend_handles(confidence: str) -> list[Line2D]:
    return [
        Line2D([], [], color=COLOR, marker="o", linestyle="", markersize=5, label="one run (seed)"),
        Line2D([], [], color=COLOR, marker="D", linestyle="", markersize=5, label="ensemble"),
        Line2D([], [], color=COLOR, marker="_", linestyle="", markersize=16, mew=2.2, label="mean"),
        Line2D(
            [],
            [],
            color=COLOR,
            marker="|",
            linestyle="",
            markersize=14,
            mew=1.2,
            label=f"{confidence} CI of the mean",
        ),
        Line2D([], [], color=BEST_COLOR, marker="o", linestyle="", label="best (mean val mDice)"),
    ]
