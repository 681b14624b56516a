"""The shared segmentation metrics, checked against numbers worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from multiclass_segmentation.core.metrics import (
    confusion_matrix,
    mean_dice,
    scores_from_confusion,
)

IGNORE = 255
NAMES = ("background", "cat", "dog")


def scores(pred, target, names=NAMES) -> dict:
    confusion = confusion_matrix(torch.tensor(pred), torch.tensor(target), len(names), IGNORE)
    return scores_from_confusion(confusion, names, background_id=0)


def test_perfect_prediction_scores_one_everywhere():
    target = [[0, 0, 1], [1, 2, 2]]

    result = scores(target, target)

    for metric in ("dice", "iou", "precision", "recall"):
        assert result[metric] == {"background": 1.0, "cat": 1.0, "dog": 1.0}
    assert result["mdice"] == result["fg_mdice"] == result["miou"] == 1.0
    assert result["pixel_accuracy"] == 1.0
    assert result["confusion_normalized"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_all_background_prediction():
    # target: 2 background, 2 cat; dog is absent from both, so it has no score.
    # background: TP 2, FP 2 (the cats), FN 0 -> Dice 4/6, IoU 2/4, precision 2/4, recall 1
    # cat:        TP 0, FP 0, FN 2         -> Dice 0, IoU 0, precision undefined, recall 0
    result = scores([0, 0, 0, 0], [0, 0, 1, 1])

    assert result["dice"] == pytest.approx({"background": 2 / 3, "cat": 0.0, "dog": None})
    assert result["iou"] == pytest.approx({"background": 0.5, "cat": 0.0, "dog": None})
    assert result["precision"] == pytest.approx({"background": 0.5, "cat": None, "dog": None})
    assert result["recall"] == pytest.approx({"background": 1.0, "cat": 0.0, "dog": None})
    assert result["mdice"] == pytest.approx((2 / 3 + 0) / 2)
    assert result["fg_mdice"] == 0.0
    assert result["pixel_accuracy"] == 0.5
    assert result["confusion_normalized"][1] == [1.0, 0.0, 0.0]
    assert result["confusion_normalized"][2] == [0.0, 0.0, 0.0]


def test_class_absent_from_prediction_and_target_is_left_out_of_the_means():
    target = [0, 1, 1, 2]
    with_absent_class = scores(target, target, names=(*NAMES, "bird"))
    without_it = scores(target, target)

    assert with_absent_class["dice"]["bird"] is None
    assert with_absent_class["mdice"] == without_it["mdice"] == 1.0
    assert with_absent_class["fg_mdice"] == 1.0


def test_ignored_pixels_count_nowhere():
    target = np.array([[0, 1, IGNORE], [IGNORE, 2, 2]])
    pred = np.array([[0, 1, 2], [1, 2, 2]])

    confusion = confusion_matrix(torch.tensor(pred), torch.tensor(target), 3, IGNORE)

    assert confusion.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]


def test_asymmetric_example_worked_by_hand():
    # pixel:   1  2  3  4  5  6  7  8  9
    # target:  0  0  0  1  1  1  2  2  255 (ignored, though predicted cat)
    # pred:    0  0  1  1  1  2  2  1  1
    # confusion (rows truth, columns prediction):
    #   background [2, 1, 0]   cat [0, 2, 1]   dog [0, 1, 1]
    # TP = [2, 2, 1]; ground-truth sums [3, 3, 2]; predicted sums [2, 4, 2]
    # Dice = 2TP / (truth + predicted): background 4/5, cat 4/7, dog 2/4
    # IoU = TP / (truth + predicted - TP): background 2/3, cat 2/5, dog 1/3
    # precision = TP / predicted: 1, 1/2, 1/2; recall = TP / truth: 2/3, 2/3, 1/2
    # pixel accuracy = 5 / 8
    result = scores([0, 0, 1, 1, 1, 2, 2, 1, 1], [0, 0, 0, 1, 1, 1, 2, 2, IGNORE])

    assert result["dice"] == pytest.approx({"background": 0.8, "cat": 4 / 7, "dog": 0.5})
    assert result["iou"] == pytest.approx({"background": 2 / 3, "cat": 0.4, "dog": 1 / 3})
    assert result["precision"] == pytest.approx({"background": 1.0, "cat": 0.5, "dog": 0.5})
    assert result["recall"] == pytest.approx({"background": 2 / 3, "cat": 2 / 3, "dog": 0.5})
    assert result["support"] == {"background": 3, "cat": 3, "dog": 2}
    assert result["mdice"] == pytest.approx((0.8 + 4 / 7 + 0.5) / 3)
    assert result["fg_mdice"] == pytest.approx((4 / 7 + 0.5) / 2)
    assert result["miou"] == pytest.approx((2 / 3 + 0.4 + 1 / 3) / 3)
    assert result["fg_miou"] == pytest.approx((0.4 + 1 / 3) / 2)
    assert result["pixel_accuracy"] == pytest.approx(5 / 8)
    assert result["confusion_normalized"][0] == pytest.approx([2 / 3, 1 / 3, 0.0])


def test_confusion_matrices_of_batches_add_up_to_the_whole():
    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (4, 8, 8), generator=generator)
    target[0, :2] = IGNORE
    pred = torch.randint(0, 3, (4, 8, 8), generator=generator)

    whole = confusion_matrix(pred, target, 3, IGNORE)
    batches = confusion_matrix(pred[:2], target[:2], 3, IGNORE) + confusion_matrix(
        pred[2:], target[2:], 3, IGNORE
    )

    assert torch.equal(whole, batches)
    assert whole.dtype == torch.int64
    assert int(whole.sum()) == 4 * 8 * 8 - 16


def test_scores_are_json_ready():
    result = scores([0, 0, 0, 0], [0, 0, 1, 1])

    json.dumps(result, allow_nan=False)
    assert all(isinstance(value, float) for value in result["confusion_normalized"][0])


@pytest.mark.parametrize(
    ("pred", "target", "message"),
    [
        ([0, 3], [0, 1], "outside the class ids"),
        ([0, 1], [0, 7], "outside the class ids"),
        ([[0, 1]], [0, 1], "shape"),
    ],
)
def test_confusion_matrix_rejects_bad_input(pred, target, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(torch.tensor(pred), torch.tensor(target), 3, IGNORE)


def test_scores_need_one_name_per_class():
    with pytest.raises(ValueError, match="class names"):
        scores_from_confusion(np.eye(3, dtype=np.int64), ("background", "cat"))


def test_mean_dice_averages_the_classes_the_image_shows():
    # classes present: background (Dice 4/5) and cat (Dice 2/3); dog is absent from both.
    # background: truth 3, predicted 2, TP 2 -> 4/5; cat: truth 1, predicted 2, TP 1 -> 2/3
    target = np.array([[0, 0], [0, 1]], dtype=np.uint8)
    pred = np.array([[0, 0], [1, 1]], dtype=np.uint8)

    confusion = confusion_matrix(torch.from_numpy(pred), torch.from_numpy(target), 3, IGNORE)
    assert mean_dice(confusion) == pytest.approx((4 / 5 + 2 / 3) / 2)


def test_mean_dice_of_a_fully_ignored_image_is_nan():
    target = np.full((2, 2), IGNORE, dtype=np.uint8)

    confusion = confusion_matrix(
        torch.zeros((2, 2), dtype=torch.uint8), torch.from_numpy(target), 3, IGNORE
    )
    assert math.isnan(mean_dice(confusion))
