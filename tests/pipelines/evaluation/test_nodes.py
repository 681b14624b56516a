"""Unit tests of the evaluation nodes on hand-made masks."""

from __future__ import annotations

import numpy as np
import pytest

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.core.scoring import score_predictions
from multiclass_segmentation.pipelines.evaluation.nodes import update_study_results

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
EVALUATION = EvaluationParams(size_buckets=[0.0, 0.1, 1.0])


def score_split(
    predictions: list[np.ndarray], masks: list[np.ndarray], classes, evaluation
) -> dict:
    """The scores of predictions of images named img0, img1, ..., consumed one at a time."""
    ids = [f"img{i}" for i in range(len(masks))]
    return score_predictions(iter(zip(ids, predictions, masks, strict=True)), classes, evaluation)


def test_perfect_predictions_score_one_everywhere():
    mask = np.zeros((10, 10), np.uint8)
    mask[2:5, 2:5] = 1
    mask[6:9, 6:9] = 2
    scores = score_split([mask.copy()], [mask], CLASSES, EVALUATION)
    assert scores["mdice"] == pytest.approx(1.0)
    assert scores["fg_mdice"] == pytest.approx(1.0)
    # 100 pixels: 82 background, 9 cat, 9 dog, all on the diagonal.
    assert scores["per_image_dice"] == [
        {
            "id": "img0",
            "dice": pytest.approx(1.0),
            "confusion": [[82, 0, 0], [0, 9, 0], [0, 0, 9]],
        }
    ]


def test_scores_sum_counts_over_the_split_and_skip_ignore_pixels():
    # Image 0: a 4-pixel cat, predicted as background. Image 1: a 4-pixel cat,
    # found; a 4-pixel ignore block predicted as dog must not count.
    first = np.zeros((4, 4), np.uint8)
    first[0:2, 0:2] = 1
    second = np.zeros((4, 4), np.uint8)
    second[0:2, 0:2] = 1
    second[2:4, 2:4] = 255
    second_prediction = second.copy()
    second_prediction[2:4, 2:4] = 2
    scores = score_split(
        [np.zeros((4, 4), np.uint8), second_prediction],
        [first, second],
        CLASSES,
        EVALUATION,
    )
    # Summed over the split: cat TP=4, FN=4, FP=0 -> Dice 8/12; background
    # TP=12+8=20, FP=4 -> Dice 40/44; dog absent from truth and prediction
    # (ignore pixels excluded) -> left out of the mean.
    assert scores["dice"]["cat"] == pytest.approx(8 / 12)
    assert scores["dice"]["background"] == pytest.approx(40 / 44)
    assert scores["mdice"] == pytest.approx((8 / 12 + 40 / 44) / 2)
    assert scores["confusion_counts"][1] == [4, 4, 0]


def test_recall_by_object_size_buckets_objects():
    mask = np.zeros((10, 10), np.uint8)
    mask[0:2, 0:2] = 1  # 4% of the image: small bucket
    mask[5:10, 5:10] = 1  # 25%: large bucket
    prediction = mask.copy()
    prediction[0:2, 0:2] = 0  # the small cat is missed entirely
    scores = score_split([prediction], [mask], CLASSES, EVALUATION)
    small, large = scores["recall_by_object_size"]["cat"]
    assert (small["objects"], small["mean_recall"]) == (1, 0.0)
    assert (large["objects"], large["mean_recall"]) == (1, 1.0)


def _metrics(hypothesis: str, val: float, test: float) -> dict:
    split = {"mdice": val, "fg_mdice": val, "miou": val, "dice": {"cat": val}}
    return {
        "hypothesis": hypothesis,
        "evaluated_at": "now",
        "model": {"epochs_run": 3},
        "val": split,
        "test": {**split, "mdice": test},
    }


def test_study_results_keep_other_hypotheses_and_pick_the_best_by_validation():
    results = update_study_results({}, _metrics("a", val=0.80, test=0.70), EVALUATION)
    results = update_study_results(results, _metrics("b", val=0.85, test=0.78), EVALUATION)
    results = update_study_results(results, _metrics("a", val=0.82, test=0.90), EVALUATION)
    assert set(results["hypotheses"]) == {"a", "b"}
    assert results["hypotheses"]["a"]["test_mdice"] == 0.90
    # b has the better validation score, so it is the best model although a tests higher.
    assert results["best_model"] == "b"
    assert results["best_mdice"] == 0.78
    assert results["target_achieved"] is True
