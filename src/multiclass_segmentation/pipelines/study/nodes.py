"""Nodes of the study pipeline; the statistics are in ``study_statistics``, Kedro-free."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from multiclass_segmentation.analysis import study_statistics
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.results import StudyResults
from multiclass_segmentation.config.study import StudyParams, run_name
from multiclass_segmentation.core.segmenter import EnsembleSegmenter, Segmenter
from multiclass_segmentation.report.study_figures import study_seeds_figure


def assemble_ensemble(
    hypothesis: str, members: list[str], weights: list[float] | None, *models: Segmenter
) -> EnsembleSegmenter:
    """The ensemble of the trained runs ``members`` (their ``models``, in the same order)."""
    return EnsembleSegmenter(
        members=list(models),
        weights=list(weights) if weights is not None else [1.0] * len(models),
        hypothesis=hypothesis,
        info={
            "members": members,
            "members_info": {m: s.info for m, s in zip(members, models, strict=True)},
        },
    )


def summarise_study(
    previous: dict[str, Any], study: StudyParams, classes: ClassesParams, *scores: dict[str, Any]
) -> tuple[dict[str, Any], Figure]:
    """results.json with its ``study`` section, and the figure of every run's scores.

    ``scores`` are every run's metrics, then every run's robustness.json, each in the
    pipeline's order: every hypothesis's seeds, then the ensembles.
    """
    ensembles = [e.name for e in study.ensembles]
    names = [run_name(h, s) for h, s in study.runs()] + ensembles
    if len(scores) != 2 * len(names):
        raise ValueError(f"{len(names)} runs need metrics and robustness, got {len(scores)}")
    plan = {
        "hypotheses": {
            h: [run_name(h, s) for s in study.seeds_of(h)] for h in study.hypothesis_names
        },
        "ensembles": {
            name: {"members": study.member_runs(name), "weights": study.ensemble_weights(name)}
            for name in ensembles
        },
    }
    summary = study_statistics.summarise_study(
        dict(zip(names, scores[: len(names)], strict=True)),
        plan,
        confidence=study.comparison.confidence,
        samples=study.comparison.bootstrap_samples,
        seed=study.comparison.seed,
        background_id=classes.background_id,
        robustness=dict(zip(names, scores[len(names) :], strict=True)),
    )
    results = StudyResults.model_validate({**previous, "study": summary}).to_json()
    return results, study_seeds_figure(summary)
