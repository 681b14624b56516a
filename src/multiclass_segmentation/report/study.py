"""The study report (report.md) from the saved reports, results, metrics, histories and sweeps."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np

from multiclass_segmentation.analysis.model_selection import best_epoch
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.reporting import ReportingParams
from multiclass_segmentation.config.results import StudyResults
from multiclass_segmentation.report import conclusion, robustness, study_seeds
from multiclass_segmentation.report.format import label
from multiclass_segmentation.report.render import render
from multiclass_segmentation.report.setup import SETUP_COLUMNS, differing_parameters, setup

# Where the `{name}_figure` catalog factory saves figures, relative to report.md.
FIGURES_FOLDER = "figures"
# The reporting pipeline's own figures, saved as `<name>_figure`.
LEARNING_CURVES_FIGURE = "report_learning_curves"
SCORES_FIGURE = "report_scores"
# Figures of the other pipelines: the EDA's, and the evaluation's per hypothesis.
EDA_FIGURE_PREFIX = "eda_"
ERROR_FIGURES = {
    "error_examples": "Worst and best test images",
    "confusion_and_size_recall": "Test confusion and object recall by size",
}


@dataclass(frozen=True)
class Study:
    """What the study report summarises.

    Attributes:
        validation: data_validation.json.
        eda: eda.json.
        results: results.json.
        metrics: the newest saved metrics of each hypothesis.
        histories: the newest training history of each hypothesis.
        sweeps: the newest sweep summary of each hypothesis.
        figures: names of the PNG files in the figures folder (without `.png`).
        ranked: the evaluated hypotheses, best validation mDice first.
        best: the best model as evaluation chose it; None when none is evaluated.
    """

    validation: dict
    eda: dict
    results: StudyResults
    metrics: dict[str, dict]
    histories: dict[str, list[dict]]
    sweeps: dict[str, dict]
    figures: set[str]
    ranked: list[str]
    best: str | None


def summary_table(summaries: dict[str, dict]) -> dict[str, list]:
    """The validation summary of each split as a table's header and rows; nested counts get a
    column each ('masks with class: cat'), as the first split names them."""
    columns = [
        (key, sub) if isinstance(value, dict) else (key, None)
        for key, value in next(iter(summaries.values())).items()
        for sub in (value if isinstance(value, dict) else [None])
    ]
    return {
        "header": [
            "split",
            *(label(key) + (f": {sub}" if sub is not None else "") for key, sub in columns),
        ],
        "rows": [
            [split, *(summary[key] if sub is None else summary[key][sub] for key, sub in columns)]
            for split, summary in summaries.items()
        ],
    }


def finding_counts(findings: list[dict]) -> list[list]:
    """Rows of severity, check, split, findings and files, in order of first finding."""
    counts = Counter((f["severity"], f["check"], f["split"]) for f in findings)
    files = Counter()
    for finding in findings:
        files[finding["severity"], finding["check"], finding["split"]] += len(finding["files"])
    return [[*key, count, files[key]] for key, count in counts.items()]


def eda_figures(figures: set[str]) -> list[dict[str, str]]:
    """The EDA's saved figures, by name: their titles and file names."""
    return [
        {"title": label(name.removeprefix(EDA_FIGURE_PREFIX)).capitalize(), "name": name}
        for name in sorted(name for name in figures if name.startswith(EDA_FIGURE_PREFIX))
    ]


def training_summaries(histories: dict[str, list[dict]]) -> dict[str, dict]:
    """Per hypothesis: epochs, the best epoch and its val mDice, the last train loss and the
    mean seconds per epoch ('-' when unknown)."""
    summaries = {}
    for hypothesis, history in histories.items():
        best = best_epoch(history)
        seconds = [epoch["seconds"] for epoch in history if epoch.get("seconds") is not None]
        summaries[hypothesis] = {
            "epochs": len(history),
            "best_epoch": best["epoch"] if best else "-",
            "best_val_mdice": best["val_mdice"] if best else None,
            "last_train_loss": history[-1].get("train_loss") if history else None,
            "seconds": f"{np.mean(seconds):.1f}" if seconds else "-",
        }
    return summaries


@dataclass(frozen=True)
class StudyReportContext:
    """Everything the template study_report.md.j2 reads: the study and what is computed
    from it here; the formatting is the renderer's filters (report/render.py)."""

    study: Study
    classes: ClassesParams
    target: float
    reporting: ReportingParams
    digits: int
    summary_table: dict[str, list]
    finding_counts: list[list]
    eda_figures: list[dict[str, str]]
    setups: dict[str, dict]
    differing: dict[str, list]
    training: dict[str, dict]
    confusion_sentences: dict[str, str]
    seeds: dict | None
    shift: dict | None
    target_sentence: str
    bullets: list[str]
    figures_folder: str = FIGURES_FOLDER
    learning_curves_figure: str = LEARNING_CURVES_FIGURE
    scores_figure: str = SCORES_FIGURE
    error_figures: dict[str, str] = field(default_factory=lambda: dict(ERROR_FIGURES))
    setup_columns: tuple = SETUP_COLUMNS
    not_evaluated: str = conclusion.NOT_EVALUATED


def confusion_sentences(study: Study, classes: ClassesParams) -> dict[str, str]:
    """The confusion sentence of each ranked hypothesis with a saved test confusion."""
    matrices = {
        h: study.metrics[h].get("test", {}).get("confusion_normalized")
        for h in study.ranked
        if h in study.metrics
    }
    return {h: conclusion.confusion_pairs(m, classes) for h, m in matrices.items() if m}


def report_context(
    study: Study, classes: ClassesParams, target_mdice: float, reporting: ReportingParams
) -> StudyReportContext:
    """The study report's context: its tables, sections and sentences from ``study``."""
    digits = reporting.score_digits
    return StudyReportContext(
        study=study,
        classes=classes,
        target=target_mdice,
        reporting=reporting,
        digits=digits,
        summary_table=summary_table(study.validation["summary"]),
        finding_counts=finding_counts(study.validation["findings"]),
        eda_figures=eda_figures(study.figures),
        setups={h: setup(study.metrics.get(h)) for h in study.ranked},
        differing=differing_parameters(
            study.metrics, study.ranked, reporting.parameters_not_compared
        ),
        training=training_summaries(study.histories),
        confusion_sentences=confusion_sentences(study, classes),
        seeds=study_seeds.section(study.results.study, digits),
        shift=robustness.section(
            study.results.model_dump(mode="json").get("hypotheses", {}),
            study.ranked,
            study.best,
            digits,
        ),
        target_sentence=conclusion.target_sentence(study, target_mdice, digits),
        bullets=conclusion.bullets(study, classes, target_mdice, digits),
    )


def study_report_markdown(
    study: Study, classes: ClassesParams, target_mdice: float, reporting: ReportingParams
) -> str:
    """The study report: one section per stage of the study, then the conclusion; the
    template numbers the sections it renders."""
    context = report_context(study, classes, target_mdice, reporting)
    return render(
        "study_report.md.j2", **{f.name: getattr(context, f.name) for f in fields(context)}
    )
