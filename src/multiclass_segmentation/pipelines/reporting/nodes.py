"""Nodes of the reporting pipeline: the study report from whatever has been run so far.

Nothing here trains or predicts. The nodes read the data validation and EDA
reports, results.json and the saved versions of ``metrics`` and
``training_history``; a section whose inputs do not exist yet says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from multiclass_segmentation.analysis.model_selection import (
    ranked_hypotheses,
    recorded_best_hypothesis,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.reporting import ReportingParams
from multiclass_segmentation.config.results import Metrics, StudyResults, read_results_file
from multiclass_segmentation.io.versions import version_path_pattern
from multiclass_segmentation.report.format import score
from multiclass_segmentation.report.study import Study, study_report_markdown

Partitions = dict[str, Callable[[], Any]]

# Partition ids of versioned JSON datasets in the reporting folder once the
# `.json` suffix is stripped: <name>.json/<version>/<name>. Kedro's version
# names are UTC timestamps, so they sort by time.
METRICS_VERSION = version_path_pattern("metrics", ".json")
HISTORY_VERSION = version_path_pattern(r"training_history_(?P<hypothesis>[^/]+)", ".json")
SWEEP_VERSION = version_path_pattern(r"sweep_(?P<hypothesis>[^/]+)", ".json")


def select_latest_runs(
    json_files: Partitions, study_results: dict
) -> tuple[dict[str, dict], dict[str, list[dict]], dict[str, dict]]:
    """The newest saved metrics, training history and sweep summary of each hypothesis.

    The hypotheses are those of ``study_results``; in a session that runs the
    training, evaluation and robustness pipelines too, results.json is written
    after their metrics and histories, so the folder is listed with them in it.
    """
    return (
        latest_metrics(json_files, study_results),
        newest_by_hypothesis(json_files, HISTORY_VERSION),
        newest_by_hypothesis(json_files, SWEEP_VERSION),
    )


def latest_metrics(json_files: Partitions, study_results: dict) -> dict[str, dict]:
    """The newest saved metrics of each hypothesis in results.json, by hypothesis.

    ``metrics`` is one versioned dataset that every hypothesis writes, and each
    version names its hypothesis, so versions are read newest first until every
    hypothesis of the results has one.
    """
    wanted = set(study_results.get("hypotheses", {}))
    versions = sorted(
        (
            (match["version"], partition)
            for partition in json_files
            if (match := METRICS_VERSION.fullmatch(partition))
        ),
        reverse=True,
    )
    latest: dict[str, dict] = {}
    for _, partition in versions:
        if wanted <= latest.keys():
            break
        metrics = read_results_file(
            Metrics, json_files[partition](), f"{partition}.json in the reporting folder"
        ).to_json()
        latest.setdefault(metrics.get("hypothesis"), metrics)
    return {hypothesis: latest[hypothesis] for hypothesis in sorted(wanted & latest.keys())}


def newest_by_hypothesis(json_files: Partitions, pattern: re.Pattern) -> dict[str, Any]:
    """The newest version of a per-hypothesis versioned JSON (``pattern``), by hypothesis."""
    newest: dict[str, tuple[str, str]] = {}
    for partition in json_files:
        match = pattern.fullmatch(partition)
        if match and match["version"] > newest.get(match["hypothesis"], ("", ""))[0]:
            newest[match["hypothesis"]] = (match["version"], partition)
    return {
        hypothesis: json_files[partition]() for hypothesis, (_, partition) in sorted(newest.items())
    }


def plot_learning_curves_comparison(
    histories: dict[str, list[dict]], evaluation: EvaluationParams
) -> Figure:
    """Validation mDice and training loss per epoch of every hypothesis, one colour each."""
    if not histories:
        return _message_figure("Learning curves", "No training history saved yet.")
    colors = _hypothesis_colors(histories)
    fig, (ax_dice, ax_loss) = plt.subplots(1, 2, figsize=(13, 4.8))
    for hypothesis, history in histories.items():
        epochs = [epoch["epoch"] for epoch in history]
        color = colors[hypothesis]
        ax_dice.plot(epochs, _values(history, "val_mdice"), marker="o", color=color)
        ax_dice.plot(epochs, _values(history, "val_fg_mdice"), linestyle="--", color=color)
        ax_loss.plot(
            epochs, _values(history, "train_loss"), marker="o", color=color, label=hypothesis
        )
    ax_dice.axhline(evaluation.target_mdice, color="red", linestyle=":", linewidth=1.5)
    ax_dice.legend(
        handles=[
            Line2D([], [], color="black", marker="o", label="mDice (all classes)"),
            Line2D([], [], color="black", linestyle="--", label="foreground mDice"),
            Line2D([], [], color="red", linestyle=":", label=f"target {evaluation.target_mdice:g}"),
        ],
        loc="best",
        fontsize=9,
    )
    ax_dice.set(title="Validation Dice per epoch", xlabel="epoch", ylabel="Dice", ylim=(0, 1))
    ax_loss.set(title="Training loss per epoch", xlabel="epoch", ylabel="loss")
    ax_loss.legend(title="hypothesis", fontsize=9)
    for ax in (ax_dice, ax_loss):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle("Learning curves of every hypothesis with a saved history (colour = hypothesis)")
    fig.tight_layout()
    return fig


def plot_scores_comparison(
    study_results: dict, classes: ClassesParams, evaluation: EvaluationParams
) -> Figure:
    """Test Dice of each class and test mDice per hypothesis, with the target."""
    entries = study_results.get("hypotheses", {})
    if not entries:
        return _message_figure("Scores by hypothesis", "No hypothesis evaluated yet.")
    ranked = ranked_hypotheses(entries)
    best = recorded_best_hypothesis(study_results)
    positions = np.arange(len(ranked))
    width = 0.8 / (classes.num_classes + 1)
    fig, ax = plt.subplots(figsize=(max(7.0, 2.0 + 1.8 * len(ranked)), 4.8))
    series = [
        (
            classes.name_of(class_id),
            classes.rgb_of(class_id),
            None,
            [entries[h].get("test_dice", {}).get(classes.name_of(class_id)) for h in ranked],
        )
        for class_id in classes.ids
    ]
    series.append(("mDice", "white", "//", [entries[h].get("test_mdice") for h in ranked]))
    for offset, (label, color, hatch, values) in enumerate(series):
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


def render_study_report(
    validation_report: dict,
    eda_report: dict,
    study_results: dict,
    metrics: dict[str, dict],
    histories: dict[str, list[dict]],
    sweeps: dict[str, dict],
    figure_files: Partitions,
    classes: ClassesParams,
    evaluation: EvaluationParams,
    reporting: ReportingParams,
) -> str:
    """The study report in markdown, from the saved reports, results and runs.

    ``figure_files`` are the PNG files in the figures folder by name (their
    loaders are never called): only figures that exist are linked.
    """
    entries = study_results.get("hypotheses", {})
    study = Study(
        validation=validation_report,
        eda=eda_report,
        results=StudyResults.model_validate(study_results),
        metrics=metrics,
        histories=histories or {},
        sweeps=sweeps or {},
        figures=set(figure_files),
        ranked=ranked_hypotheses(entries),
        best=recorded_best_hypothesis(study_results) if entries else None,
    )
    return study_report_markdown(study, classes, evaluation.target_mdice, reporting)


def _hypothesis_colors(hypotheses: Iterable[str]) -> dict[str, tuple]:
    palette = plt.get_cmap("tab10").colors
    return {h: palette[i % len(palette)] for i, h in enumerate(sorted(hypotheses))}


def _message_figure(title: str, message: str) -> Figure:
    """A small figure that says what is missing, so a stale figure never stays behind."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12)
    ax.set_title(title)
    ax.axis("off")
    return fig


def _values(history: list[dict], key: str) -> list[float]:
    return [np.nan if epoch.get(key) is None else epoch[key] for epoch in history]
