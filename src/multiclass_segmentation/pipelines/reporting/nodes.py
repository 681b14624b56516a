"""Nodes of the reporting pipeline: the study report from whatever has been run so far.

Nothing here trains or predicts. The nodes read the data validation and EDA
reports, results.json and the saved versions of ``metrics`` and
``training_history``; a section whose inputs do not exist yet says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from multiclass_segmentation.analysis.model_selection import (
    ranked_hypotheses,
    recorded_best_hypothesis,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.reporting import ReportingParams
from multiclass_segmentation.config.results import Metrics, StudyResults, read_results_file
from multiclass_segmentation.io.versions import version_path_pattern
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
