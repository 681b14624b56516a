"""A segmenter scored on shifted views and on external labelled sets; never imports kedro.

Every view goes through the evaluation's own path (``scoring.predictions`` and
``score_predictions``: batches, DataLoader workers, the same test-time
augmentation), so a shifted score differs from the clean one only by its images.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Any

import pandas as pd

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.core.scoring import predictions, score_predictions
from multiclass_segmentation.core.segmenter import Segmenter


def score_views(
    segmenter: Segmenter,
    views: pd.DataFrame,
    root: str | Path,
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> dict[str, dict[str, dict[str, Any]]]:
    """split -> view -> the view's scores (``score_predictions``) with its family and level.

    One prediction stream over every view (one set of DataLoader workers); the rows
    are sorted by split and view so that each view's predictions arrive together.
    """
    ordered = views.sort_values(["split", "view"], kind="stable").reset_index(drop=True)
    stream = zip(
        ordered.itertuples(index=False),
        predictions(segmenter, ordered, root, evaluation, "Scoring the shifted views"),
        strict=True,
    )
    kinds = ordered.drop_duplicates(["split", "view"]).set_index(["split", "view"])
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    for (split, view), group in groupby(stream, key=lambda pair: (pair[0].split, pair[0].view)):
        scores.setdefault(split, {})[view] = {
            "family": kinds.at[(split, view), "family"],
            "level": float(kinds.at[(split, view), "level"]),
            **score_predictions((item for _, item in group), classes, evaluation),
        }
    return scores


def score_manifest(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    root: str | Path,
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> dict[str, Any]:
    """The scores of a validated manifest (an external set), each image at its own size."""
    stream = predictions(segmenter, manifest, root, evaluation, "Scoring an external set")
    return score_predictions(stream, classes, evaluation)
