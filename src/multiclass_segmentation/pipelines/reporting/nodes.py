"""Nodes of the reporting pipeline: the study report from whatever has been run so far.

Nothing here trains or predicts. The nodes read the data validation and EDA
reports, results.json and the saved versions of ``metrics`` and
``training_history``; a section whose inputs do not exist yet says so.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from multiclass_segmentation.markdown import code_preview as _preview
from multiclass_segmentation.markdown import (
    format_triple,
    markdown_table,
    objects_per_image_table,
)
from multiclass_segmentation.model_selection import best_epoch
from multiclass_segmentation.model_selection import ranked_hypotheses as _ranked
from multiclass_segmentation.model_selection import recorded_best_hypothesis as _best_hypothesis
from multiclass_segmentation.params.common import ClassesParams
from multiclass_segmentation.params.evaluation import EvaluationParams
from multiclass_segmentation.params.reporting import ReportingParams
from multiclass_segmentation.sweep import best_against_base
from multiclass_segmentation.versions import version_path_pattern

Partitions = dict[str, Callable[[], Any]]

# Partition ids of versioned JSON datasets in the reporting folder once the
# `.json` suffix is stripped: <name>.json/<version>/<name>. Kedro's version
# names are UTC timestamps, so they sort by time.
METRICS_VERSION = version_path_pattern("metrics", ".json")
HISTORY_VERSION = version_path_pattern(r"training_history_(?P<hypothesis>[^/]+)", ".json")
SWEEP_VERSION = version_path_pattern(r"sweep_(?P<hypothesis>[^/]+)", ".json")
# Where the `{name}_figure` catalog factory saves figures, relative to report.md.
FIGURES_FOLDER = "figures"
# This pipeline's own figures, saved as `<name>_figure`.
LEARNING_CURVES_FIGURE = "report_learning_curves"
SCORES_FIGURE = "report_scores"
# Figures of the other pipelines: the EDA's, and the evaluation's per hypothesis.
EDA_FIGURE_PREFIX = "eda_"
ERROR_FIGURES = {
    "error_examples": "Worst and best test images",
    "confusion_and_size_recall": "Test confusion and object recall by size",
}
# Training parameters that the setup columns already show.
SETUP_PARAMETERS = (
    "model.architecture",
    "model.encoder_name",
    "model.encoder_weights",
    "loss.terms",
    "loss.class_weights",
    "optimizer.name",
    "optimizer.lr",
    "optimizer.weight_decay",
    "scheduler.name",
    "epochs",
    "augmentations",
)
NOT_EVALUATED = (
    "No hypothesis has been evaluated yet: train and evaluate one with `kedro run` (the "
    "default hypothesis) or `kedro run --env <hypothesis>`, which also rebuild this report."
)


def select_latest_runs(
    json_files: Partitions, study_results: dict, eda_report: dict
) -> tuple[dict[str, dict], dict[str, list[dict]], dict[str, dict]]:
    """The newest saved metrics, training history and sweep summary of each hypothesis.

    ``eda_report`` is taken only for the order of the nodes: when earlier
    pipelines run in the same session, this lists the reporting folder after
    they have written into it (results.json comes last, from evaluation).
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
        metrics = json_files[partition]()
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
    ranked = _ranked(entries)
    best = _best_hypothesis(study_results)
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
        ax.bar_label(bars, labels=[_score(v, 2) for v in values], fontsize=7, padding=1)
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
    figures = set(figure_files)
    sections = [
        [
            "# Study report",
            "",
            "Rebuilt by every `kedro run` and by `kedro run --pipelines reporting` from the "
            "reports, results and saved runs in this folder; nothing is retrained. The best "
            "model is chosen by validation "
            f"mDice; the target is a test mDice (all {classes.num_classes} classes) above "
            f"{evaluation.target_mdice:g}.",
        ],
        _validation_section(validation_report, reporting),
        _eda_section(eda_report, figures, reporting.score_digits),
        _hypotheses_section(study_results, metrics, classes, reporting),
        _learning_curves_section(histories, reporting.score_digits),
        _best_model_section(study_results, evaluation.target_mdice, reporting.score_digits),
        _error_analysis_section(study_results, metrics, figures, classes, reporting.score_digits),
        _sweeps_section(sweeps, figures),
        _conclusion_section(
            validation_report,
            eda_report,
            study_results,
            metrics,
            classes,
            evaluation.target_mdice,
            reporting.score_digits,
        ),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def _validation_section(report: dict, reporting: ReportingParams) -> list[str]:
    verdict = "passed" if report["passed"] else "failed"
    summaries = report["summary"]
    columns = [
        (key, sub) if isinstance(value, dict) else (key, None)
        for key, value in next(iter(summaries.values())).items()
        for sub in (value if isinstance(value, dict) else [None])
    ]
    lines = [
        "## 1. Dataset and validation findings",
        "",
        f"Dataset `{report['dataset_root']}`: validation **{verdict}** with "
        f"{report['errors']} error(s) and {report['warnings']} warning(s) "
        "(details: [data_validation.md](data_validation.md)).",
        "",
        "### Files and masks per split",
        "",
        *markdown_table(
            [
                "split",
                *(_label(key) + (f": {sub}" if sub is not None else "") for key, sub in columns),
            ],
            [
                [
                    split,
                    *(summary[key] if sub is None else summary[key][sub] for key, sub in columns),
                ]
                for split, summary in summaries.items()
            ],
        ),
        "",
        "### Findings",
        "",
    ]
    findings = report["findings"]
    if not findings:
        return [*lines, "No finding: every check passed without an error or a warning."]
    counts = Counter((f["severity"], f["check"], f["split"]) for f in findings)
    files = Counter()
    for finding in findings:
        files[finding["severity"], finding["check"], finding["split"]] += len(finding["files"])
    lines += markdown_table(
        ["severity", "check", "split", "findings", "files"],
        [[*key, count, files[key]] for key, count in counts.items()],
    )
    listed = findings[: reporting.findings_listed]
    if listed:
        lines += ["", "Every finding:" if len(listed) == len(findings) else "First findings:", ""]
        lines += [
            f"- **{f['severity']}** `{f['check']}` ({f['split']}): {f['message'].rstrip('.')}. "
            f"Files: {_preview(f['files'], reporting.files_listed)}."
            for f in listed
        ]
    if len(findings) > len(listed):
        lines += [
            "",
            f"{len(findings) - len(listed)} more finding(s) are listed in data_validation.json.",
        ]
    return lines


def _eda_section(report: dict, figures: set[str], digits: int) -> list[str]:
    splits = report["splits"]
    names = report["classes"]
    weights = report["class_weights"]
    channels = report["channel_statistics"]
    eda_figures = sorted(name for name in figures if name.startswith(EDA_FIGURE_PREFIX))
    return [
        "## 2. Exploratory data analysis",
        "",
        "Full tables: [eda.md](eda.md).",
        "",
        "### Pixel share per class (ignore pixels left out)",
        "",
        *markdown_table(
            ["class", *splits],
            [
                [name, *(_percent(s["class_pixels"][name]["share"]) for s in splits.values())]
                for name in names
            ],
        ),
        "",
        "### Objects per image",
        "",
        f"Objects are 8-connected components of at least {report['min_component_pixels']} pixels.",
        "",
        *objects_per_image_table(report),
        "",
        "### Channel statistics (RGB, 0..1)",
        "",
        *markdown_table(
            ["split", "mean (R, G, B)", "std (R, G, B)"],
            [
                [split, format_triple(c["mean_0_1"], digits), format_triple(c["std_0_1"], digits)]
                for split, c in channels.items()
            ],
        ),
        "",
        "### Suggested class weights (train split)",
        "",
        *markdown_table(
            ["method", *weights["class_names"]],
            [
                [
                    method + (" (recommended)" if method == weights["recommended"] else ""),
                    *(_score(w, digits) for w in weights[method]),
                ]
                for method in ("inverse_frequency", "median_frequency")
                if method in weights
            ],
        ),
        "",
        "### Figures",
        "",
        *(
            [
                f"- [{_label(name.removeprefix(EDA_FIGURE_PREFIX)).capitalize()}]"
                f"({_figure_path(name)})"
                for name in eda_figures
            ]
            or ["No EDA figure saved yet: run `kedro run --pipelines eda`."]
        ),
    ]


def _setup(metrics: dict | None) -> dict[str, str]:
    """The columns that tell hypotheses apart, from the training parameters saved in metrics."""
    if metrics is None:
        return {}
    model_info = metrics.get("model", {})
    parameters = model_info.get("parameters", {})
    model = parameters.get("model", {})
    loss = parameters.get("loss", {})
    optimizer = parameters.get("optimizer", {})
    scheduler = parameters.get("scheduler", {}).get("name", "none")
    terms = " + ".join(
        term["name"] if term.get("weight", 1.0) == 1.0 else f"{term['weight']:g}·{term['name']}"
        for term in loss.get("terms", [])
    )
    class_weights = loss.get("class_weights")
    if class_weights is not None:
        terms += f"; class weights {_json(class_weights)}"
    optimiser = f"{optimizer.get('name', '?')}, lr {optimizer.get('lr', float('nan')):g}"
    if optimizer.get("weight_decay"):
        optimiser += f", weight decay {optimizer['weight_decay']:g}"
    if scheduler != "none":
        optimiser += f", {scheduler} schedule"
    epochs = f"{model_info.get('epochs_run', '?')} of {parameters.get('epochs', '?')}"
    if model_info.get("best_epoch") is not None:
        epochs += f" (best {model_info['best_epoch']})"
    return {
        "architecture": str(model.get("architecture", "?")),
        "encoder": str(model.get("encoder_name", "?")),
        "encoder weights": model.get("encoder_weights") or "none (random init)",
        "loss": terms or "?",
        "optimiser": optimiser,
        "epochs run": epochs,
        "augmentations": ", ".join(a["name"] for a in parameters.get("augmentations", []))
        or "none",
        "test-time augmentation": _tta_label(metrics.get("tta")),
    }


def _tta_label(tta: dict | None) -> str:
    """How evaluation augmented its inputs: 'flip', 'scales 0.75/1/1.25', both, or 'none'."""
    if tta is None:
        return "?"
    parts = ["flip"] if tta.get("hflip") else []
    scales = tta.get("scales", [1.0])
    if list(scales) != [1.0]:
        parts.append("scales " + "/".join(f"{scale:g}" for scale in scales))
    return ", ".join(parts) or "none"


def _differing_parameters(
    metrics: dict[str, dict], hypotheses: list[str], not_compared: Iterable[str]
) -> dict[str, list[str]]:
    """Training parameters (dotted paths) whose values differ between the hypotheses."""
    flat = {
        h: _flatten(metrics[h].get("model", {}).get("parameters", {}))
        for h in hypotheses
        if h in metrics
    }
    if len(flat) < 2:
        return {}
    skipped = (*SETUP_PARAMETERS, *not_compared)
    keys = sorted({key for values in flat.values() for key in values})
    differing = {}
    for key in keys:
        if any(key == s or key.startswith(f"{s}.") for s in skipped):
            continue
        if len({values.get(key, "-") for values in flat.values()}) > 1:
            differing[key] = [flat[h].get(key, "-") if h in flat else "-" for h in hypotheses]
    return differing


def _hypotheses_section(
    results: dict, metrics: dict[str, dict], classes: ClassesParams, reporting: ReportingParams
) -> list[str]:
    entries = results.get("hypotheses", {})
    lines = ["## 3. Hypotheses", ""]
    if not entries:
        return [*lines, NOT_EVALUATED]
    digits = reporting.score_digits
    ranked = _ranked(entries)
    best = _best_hypothesis(results)
    setups = {h: _setup(metrics.get(h)) for h in ranked}
    setup_columns = list(_setup({"model": {}}))
    lines += [
        "One row per evaluated hypothesis (environment), ranked by validation mDice; the "
        "settings come from the newest saved metrics of each.",
        "",
        "### Setup",
        "",
        *markdown_table(
            ["hypothesis", *setup_columns],
            [[h, *(setups[h].get(column, "-") for column in setup_columns)] for h in ranked],
        ),
    ]
    unsaved = [h for h in ranked if h not in metrics]
    if unsaved:
        lines += ["", f"No saved metrics for {', '.join(unsaved)}, so their setup is unknown."]
    differing = _differing_parameters(metrics, ranked, reporting.parameters_not_compared)
    if differing:
        lines += [
            "",
            "### Other settings that differ",
            "",
            *markdown_table(
                ["setting", *ranked], [[key, *values] for key, values in differing.items()]
            ),
        ]
    lines += [
        "",
        "### Scores",
        "",
        *markdown_table(
            [
                "hypothesis",
                "val mDice",
                "val fg mDice",
                "test mDice",
                "test fg mDice",
                *(f"test Dice {name}" for name in classes.names),
            ],
            [
                [
                    f"{h} (best)" if h == best else h,
                    _score(entries[h].get("val_mdice"), digits),
                    _score(entries[h].get("val_fg_mdice"), digits),
                    _score(entries[h].get("test_mdice"), digits),
                    _score(entries[h].get("test_fg_mdice"), digits),
                    *(
                        _score(entries[h].get("test_dice", {}).get(name), digits)
                        for name in classes.names
                    ),
                ]
                for h in ranked
            ],
        ),
        "",
        f"![Test Dice per class and mDice by hypothesis]({_figure_path(SCORES_FIGURE)})",
    ]
    return lines


def _learning_curves_section(histories: dict[str, list[dict]], digits: int) -> list[str]:
    lines = ["## 4. Learning curves", ""]
    if not histories:
        return [*lines, "No training history saved yet: run the training pipeline first."]
    rows = []
    for hypothesis, history in histories.items():
        best = best_epoch(history)
        seconds = [epoch["seconds"] for epoch in history if epoch.get("seconds") is not None]
        rows.append(
            [
                hypothesis,
                len(history),
                best["epoch"] if best else "-",
                _score(best["val_mdice"] if best else None, digits),
                _score(history[-1].get("train_loss") if history else None, digits),
                f"{np.mean(seconds):.1f}" if seconds else "-",
            ]
        )
    return [
        *lines,
        f"![Learning curves of every hypothesis]({_figure_path(LEARNING_CURVES_FIGURE)})",
        "",
        *markdown_table(
            [
                "hypothesis",
                "epochs",
                "best epoch",
                "best val mDice in training",
                "last train loss",
                "seconds per epoch",
            ],
            rows,
        ),
    ]


def _target_sentence(results: dict, target: float, digits: int) -> str:
    """Whether the best model's test mDice is above the target, stated plainly."""
    entries = results.get("hypotheses", {})
    if not entries:
        return (
            f"The target (test mDice > {target:g}) is **not reached yet**: no model is evaluated."
        )
    best = _best_hypothesis(results)
    test = entries[best].get("test_mdice")
    if test is None:
        return f"The target (test mDice > {target:g}) is **not reached**: {best} has no test mDice."
    if test > target:
        return (
            f"The target (test mDice > {target:g}) is **reached**: {best} scores "
            f"{_score(test, digits)}, {_score(test - target, digits)} above it."
        )
    return (
        f"The target (test mDice > {target:g}) is **not reached**: {best} scores "
        f"{_score(test, digits)}, {_score(target - test, digits)} short of it."
    )


def _best_model_section(results: dict, target: float, digits: int) -> list[str]:
    lines = ["## 5. Best model", ""]
    entries = results.get("hypotheses", {})
    if entries:
        best = _best_hypothesis(results)
        lines += [
            f"Best model: **{best}**, chosen by validation mDice "
            f"({_score(entries[best].get('val_mdice'), digits)}); its test mDice is "
            f"{_score(entries[best].get('test_mdice'), digits)}.",
            "",
        ]
    return [*lines, _target_sentence(results, target, digits)]


def _confusion_lines(test: dict, classes: ClassesParams) -> list[str]:
    matrix = test.get("confusion_normalized")
    if not matrix:
        return ["No test confusion matrix saved."]
    names = list(classes.names)
    pairs = [
        f"{_percent(matrix[truth][predicted])} of {classes.name_of(truth)} pixels are predicted "
        f"as {classes.name_of(predicted)}"
        for truth in classes.foreground_ids
        for predicted in classes.ids
        if predicted != truth
    ]
    return [
        "Test confusion, the share of each true class's pixels by predicted class:",
        "",
        *markdown_table(
            ["truth \\ predicted", *names],
            [
                [name, *(_percent(value) for value in row)]
                for name, row in zip(names, matrix, strict=True)
            ],
        ),
        "",
        _sentence("; ".join(pairs)),
    ]


def _size_recall_lines(test: dict, digits: int) -> list[str]:
    by_class = test.get("recall_by_object_size")
    if not by_class:
        return ["No recall by object size saved."]
    buckets = next(iter(by_class.values()))
    return [
        "Recall of test objects by size (object area / image area; objects in brackets):",
        "",
        *markdown_table(
            ["class", *(_bucket(b) for b in buckets)],
            [
                [name, *(f"{_score(b['mean_recall'], digits)} ({b['objects']})" for b in rows)]
                for name, rows in by_class.items()
            ],
        ),
    ]


def _error_analysis_section(
    results: dict,
    metrics: dict[str, dict],
    figures: set[str],
    classes: ClassesParams,
    digits: int,
) -> list[str]:
    lines = ["## 6. Error analysis", ""]
    entries = results.get("hypotheses", {})
    if not entries:
        return [*lines, NOT_EVALUATED]
    for hypothesis in _ranked(entries):
        lines += [f"### {hypothesis}", ""]
        for prefix, title in ERROR_FIGURES.items():
            name = f"{prefix}_{hypothesis}"
            if name in figures:
                lines += [f"![{title}, {hypothesis}]({_figure_path(name)})", ""]
        if hypothesis not in metrics:
            lines += [f"No saved metrics for {hypothesis}.", ""]
            continue
        test = metrics[hypothesis].get("test", {})
        lines += [
            *_confusion_lines(test, classes),
            "",
            *_size_recall_lines(test, digits),
            "",
        ]
    return lines[:-1]


def _sweeps_section(sweeps: dict[str, dict], figures: set[str]) -> list[str]:
    """Each hypothesis's latest sweep: its trials, its best trial against base, its figures."""
    lines = ["## 7. Sweeps", ""]
    if not sweeps:
        return [*lines, "No sweep yet: `kedro run --pipelines sweep` (README, Sweeps) adds one."]
    for hypothesis, summary in sweeps.items():
        states = ", ".join(f"{count} {state}" for state, count in summary["states"].items())
        lines += [
            f"### Sweep `{summary['study_name']}` of hypothesis `{hypothesis}`",
            "",
            f"{len(summary['trials'])} trials ({states}); every trial in "
            f"[sweep_{hypothesis}.md](sweep_{hypothesis}.md).",
            "",
            *best_against_base(summary["best_trial"], summary["base_trial"]),
            "",
        ]
        for name in ("history", "importances"):
            figure = f"sweep_{name}_{hypothesis}"
            if figure in figures:
                lines.append(f"![Sweep {name}]({_figure_path(figure)})")
        lines.append("")
    return lines[:-1]


def _conclusion_section(
    validation_report: dict,
    eda_report: dict,
    results: dict,
    metrics: dict[str, dict],
    classes: ClassesParams,
    target: float,
    digits: int,
) -> list[str]:
    summaries = validation_report["summary"]
    verdict = "passed" if validation_report["passed"] else "failed"
    bullets = [
        f"Data validation {verdict} with {validation_report['errors']} error(s) and "
        f"{validation_report['warnings']} warning(s); validated pairs: "
        + ", ".join(f"{s.get('validated_pairs', '?')} {split}" for split, s in summaries.items())
        + "."
    ]
    split, statistics = next(iter(eda_report["splits"].items()))
    if "train" in eda_report["splits"]:
        split, statistics = "train", eda_report["splits"]["train"]
    shares = {name: value["share"] for name, value in statistics["class_pixels"].items()}
    background = classes.name_of(classes.background_id)
    foreground = [classes.name_of(i) for i in classes.foreground_ids]
    rarest = min(foreground, key=lambda name: shares.get(name, 0.0))
    weights = eda_report["class_weights"]
    bullets.append(
        f"{_upper_first(background)} covers {_percent(shares.get(background, 0.0))} of the "
        f"labelled {split} pixels and the rarest class, {rarest}, "
        f"{_percent(shares.get(rarest, 0.0))}; the EDA suggests {weights['recommended']} "
        "class weights "
        + ", ".join(
            f"{name} {_score(w, digits)}"
            for name, w in zip(weights["class_names"], weights["weights"], strict=True)
        )
        + "."
    )
    entries = results.get("hypotheses", {})
    if not entries:
        bullets += [NOT_EVALUATED, _target_sentence(results, target, digits)]
        return ["## 8. Conclusion", "", *(f"- {bullet}" for bullet in bullets)]

    ranked = _ranked(entries)
    best = _best_hypothesis(results)
    entry = entries[best]
    bullets.append(
        f"{len(ranked)} hypothesis(es) evaluated, ranked by validation mDice: "
        + ", ".join(f"{h} ({_score(entries[h].get('val_mdice'), digits)})" for h in ranked)
        + "."
    )
    bullets.append(_target_sentence(results, target, digits))
    best_on_test = max(ranked, key=lambda h: entries[h].get("test_mdice") or -1.0)
    if (entries[best_on_test].get("test_mdice") or -1.0) > (entry.get("test_mdice") or -1.0):
        bullets.append(
            f"On test, {best_on_test} scores higher "
            f"({_score(entries[best_on_test]['test_mdice'], digits)}), but the model is chosen "
            "by validation mDice, never by test: picking by test would make the test score "
            "optimistic."
        )
    runner_up = next((h for h in ranked if h != best), None)
    if runner_up is not None:
        bullets.append(
            f"{best} differs from the runner-up {runner_up} by "
            f"{_signed(entry.get('val_mdice'), entries[runner_up].get('val_mdice'), digits)} "
            "validation mDice and by "
            f"{_signed(entry.get('test_mdice'), entries[runner_up].get('test_mdice'), digits)} "
            "test mDice."
        )
    test_dice = {name: d for name, d in entry.get("test_dice", {}).items() if d is not None}
    if test_dice:
        weakest = min(test_dice, key=test_dice.get)
        strongest = max(test_dice, key=test_dice.get)
        bullets.append(
            f"For {best}, the weakest class is {weakest} (test Dice "
            f"{_score(test_dice[weakest], digits)}) and the strongest {strongest} "
            f"({_score(test_dice[strongest], digits)}); test minus validation mDice is "
            f"{_signed(entry.get('test_mdice'), entry.get('val_mdice'), digits)}."
        )
    best_metrics = metrics.get(best, {})
    bullets += _confusion_conclusion(best, best_metrics.get("test", {}), classes)
    bullets += _size_conclusion(best, best_metrics.get("test", {}), digits)
    model_info = best_metrics.get("model", {})
    best_epoch, epochs_run = model_info.get("best_epoch"), model_info.get("epochs_run")
    if best_epoch is not None and epochs_run:
        if best_epoch == epochs_run:
            bullets.append(
                f"{best}'s validation mDice was highest in its last epoch ({best_epoch} of "
                f"{epochs_run}): it may not have converged, so more epochs could still help."
            )
        else:
            bullets.append(
                f"{best}'s validation mDice peaked at epoch {best_epoch} of {epochs_run}."
            )
    return ["## 8. Conclusion", "", *(f"- {bullet}" for bullet in bullets)]


def _confusion_conclusion(hypothesis: str, test: dict, classes: ClassesParams) -> list[str]:
    matrix = test.get("confusion_normalized")
    foreground = classes.foreground_ids
    if not matrix or not foreground:
        return []
    missed = max(foreground, key=lambda c: matrix[c][classes.background_id])
    sentences = [
        f"{hypothesis} misses {_percent(matrix[missed][classes.background_id])} of the "
        f"{classes.name_of(missed)} pixels as {classes.name_of(classes.background_id)}, the most "
        "of any class"
    ]
    if len(foreground) > 1:
        truth, predicted = max(
            ((t, p) for t in foreground for p in foreground if t != p),
            key=lambda pair: matrix[pair[0]][pair[1]],
        )
        sentences.append(
            f"the largest confusion between foreground classes is "
            f"{_percent(matrix[truth][predicted])} of {classes.name_of(truth)} pixels predicted "
            f"as {classes.name_of(predicted)} (and {_percent(matrix[predicted][truth])} the "
            "other way)"
        )
    return ["; ".join(sentences) + "."]


def _size_conclusion(hypothesis: str, test: dict, digits: int) -> list[str]:
    sentences = []
    for name, buckets in test.get("recall_by_object_size", {}).items():
        filled = [b for b in buckets if b["objects"] and b["mean_recall"] is not None]
        if len(filled) < 2:
            continue
        smallest, largest = filled[0], filled[-1]
        change = largest["mean_recall"] - smallest["mean_recall"]
        trend = "rises" if change > 0 else "falls" if change < 0 else "stays"
        sentences.append(
            f"{name} object recall {trend} from {_score(smallest['mean_recall'], digits)} "
            f"({_bucket(smallest)} of the image) to {_score(largest['mean_recall'], digits)} "
            f"({_bucket(largest)})"
        )
    if not sentences:
        return []
    return [f"For {hypothesis}, " + "; ".join(sentences) + "."]


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


def _flatten(values: dict, prefix: str = "") -> dict[str, str]:
    """Nested parameters as {dotted path: JSON text of the value}."""
    flat = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = _json(value)
    return flat


def _json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    return _upper_first(text) + "."


def _figure_path(name: str) -> str:
    return f"{FIGURES_FOLDER}/{name}.png"


def _label(key: str) -> str:
    return key.replace("_", " ")


def _score(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, other: float | None, digits: int) -> str:
    return "-" if value is None or other is None else f"{value - other:+.{digits}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _bucket(bucket: dict) -> str:
    return f"{bucket['min_share']:.0%}-{bucket['max_share']:.0%}"
