"""Nodes of the robustness pipeline: the trained model scored outside its own test split.

Views are built in ``core/shift_views`` and scored in ``core/robustness``; the
figures P, mPC and rPC come from ``analysis/robustness``; figures are drawn in
``report/robustness_figures``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.analysis.robustness import split_summary
from multiclass_segmentation.analysis.validation.findings import (
    failure_message,
    validation_report,
)
from multiclass_segmentation.analysis.validation.inspection import (
    inspect_split_files,
    manifest,
)
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.data_validation import DataValidationParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.results import Robustness, StudyResults
from multiclass_segmentation.config.robustness import RobustnessParams
from multiclass_segmentation.core.robustness import score_manifest, score_views
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.core.shift_views import cached_views
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io.external_sets import external_set_partitions
from multiclass_segmentation.report import robustness_figures

ExternalSets = dict[str, dict[str, Any]]
# The external sets' validation report: <reporting_dir>/<EXTERNAL_REPORT>.json.
EXTERNAL_REPORT = "external_sets_validation"


def build_shift_views(
    val_manifest: pd.DataFrame,
    test_manifest: pd.DataFrame,
    dataset: DatasetParams,
    classes: ClassesParams,
    robustness: RobustnessParams,
) -> pd.DataFrame:
    """The manifest of every shifted view of the scored splits, written once and cached."""
    manifests = {"val": val_manifest, "test": test_manifest}
    chosen = {split: manifests[split] for split in robustness.splits}
    return cached_views(chosen, dataset.root, robustness, classes)


def inspect_external_sets(
    evaluation: EvaluationParams, classes: ClassesParams, data_validation: DataValidationParams
) -> tuple[dict[str, dict], ExternalSets]:
    """Data validation's report on each external set, and each set's usable pairs."""
    reports, sets = {}, {}
    for name, root in evaluation.external_sets.items():
        # One report per set, its files named relative to the set's folder (no split).
        inspection = inspect_split_files(*external_set_partitions(name, root), classes)
        reports[name] = validation_report(root, classes, data_validation, {"": inspection})
        sets[name] = {"root": root, "manifest": manifest(inspection, classes, "")}
    return reports, sets


def check_external_sets(
    reports: dict[str, dict], sets: ExternalSets, data_validation: DataValidationParams
) -> ExternalSets:
    """The external sets, once their validation passed; else a ``BadInputError`` naming
    each failed check and its files."""
    # The catalog saves the reports beside data validation's (conf/base/catalog.yml).
    saved = str(Path(data_validation.report_path).with_name(f"{EXTERNAL_REPORT}.json"))
    failures = {
        name: message
        for name, report in reports.items()
        if (message := failure_message(report, data_validation, saved)) is not None
    }
    if failures:
        raise BadInputError(
            "\n".join(f"evaluation.external_sets.{name}: {m}" for name, m in failures.items())
        )
    return sets


def score_robustness(
    segmenter: Segmenter,
    views: pd.DataFrame,
    external_sets: ExternalSets,
    metrics: dict[str, Any],
    classes: ClassesParams,
    evaluation: EvaluationParams,
    robustness: RobustnessParams,
) -> dict[str, Any]:
    """robustness.json: every view's scores, P / scale / mPC / rPC per split, external sets.

    P is the clean score of the same model in ``metrics`` (the evaluation's, with the
    same test-time augmentation).
    """
    scores = score_views(segmenter, views, robustness.cache_dir, classes, evaluation)
    external = {
        name: score_manifest(segmenter, spec["manifest"], spec["root"], classes, evaluation)
        for name, spec in external_sets.items()
    }
    return Robustness(
        hypothesis=metrics["hypothesis"],
        evaluated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=segmenter.info,
        tta=evaluation.tta.model_dump(),
        sampling=robustness.sampling,
        severities=robustness.severities,
        summary={
            split: split_summary(split_views, metrics[split], list(robustness.corruptions))
            for split, split_views in scores.items()
        },
        views=scores,
        external=external,
    ).to_json()


def record_robustness(study_results: dict[str, Any], robustness: dict[str, Any]) -> dict[str, Any]:
    """results.json with the robustness figures in this hypothesis's entry.

    The evaluation wrote the entry (and dropped an older model's figures) in the same run.
    """
    hypothesis = robustness["hypothesis"]
    entries = dict(study_results.get("hypotheses", {}))
    if hypothesis not in entries:
        raise BadInputError(
            f"results.json has no entry for {hypothesis}: run the evaluation pipeline before "
            "robustness (kedro run --pipelines evaluation,robustness)"
        )
    entries[hypothesis] = {**entries[hypothesis], "robustness": robustness_entry(robustness)}
    return StudyResults.model_validate({**study_results, "hypotheses": entries}).to_json()


def robustness_entry(robustness: dict[str, Any]) -> dict[str, Any]:
    """What results.json keeps of robustness.json: the summaries (no per-image scores) and
    the external sets' scores."""
    return {
        "summary": robustness["summary"],
        "external": {
            name: {key: scores.get(key) for key in ("images", "mdice", "fg_mdice", "dice")}
            for name, scores in robustness["external"].items()
        },
    }


def plot_robustness_curves(robustness: dict[str, Any], classes: ClassesParams) -> Figure:
    """mDice and each class's Dice against severity per family, with the scale views."""
    return robustness_figures.severity_curves_figure(robustness, classes)


def plot_shift_examples(
    segmenter: Segmenter,
    views: pd.DataFrame,
    test_manifest: pd.DataFrame,
    robustness: dict[str, Any],
    metrics: dict[str, Any],
    dataset: DatasetParams,
    classes: ClassesParams,
    evaluation: EvaluationParams,
    robustness_params: RobustnessParams,
) -> Figure:
    """The shifted test images that lose the most Dice, beside their clean version."""
    return robustness_figures.shift_examples_figure(
        segmenter,
        views,
        test_manifest,
        robustness,
        metrics,
        dataset,
        classes,
        evaluation,
        robustness_params,
    )
