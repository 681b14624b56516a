"""Segmentation metrics, the one implementation that training validation and evaluation share.

Definitions follow mmsegmentation: a confusion matrix is accumulated over every non-ignored pixel
of a split (not averaged per image), and per-class scores come from its counts:

- Dice_c = 2 TP / (2 TP + FP + FN), IoU_c = TP / (TP + FP + FN),
  precision_c = TP / (TP + FP), recall_c = TP / (TP + FN);
- a class absent from both the ground truth and the prediction has an undefined (NaN) Dice and
  IoU and is left out of the means (nanmean), instead of counting as 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int
) -> torch.Tensor:
    """int64 (num_classes, num_classes) pixel counts: rows = ground truth, columns = prediction.

    ``pred`` holds class ids (not logits) and has ``target``'s shape, any shape, on any device;
    pixels whose target is ``ignore_index`` are left out. Matrices of batches add up.
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"prediction shape {tuple(pred.shape)} differs from target shape "
            f"{tuple(target.shape)}; pass class ids (argmax of the logits), not logits"
        )
    if pred.device.type == "cpu":
        # numpy's bincount: torch's CPU kernels wake their thread pool for every small mask,
        # which on a busy 2-core machine took 0.11 s per 256 x 256 mask against 0.4 ms here.
        as_numpy = (array.numpy().astype(np.int64) for array in (pred, target))
        return torch.from_numpy(_pair_counts(*as_numpy, num_classes, ignore_index, np.bincount))
    return _pair_counts(pred.long(), target.long(), num_classes, ignore_index, torch.bincount)


def _pair_counts(pred, target, num_classes: int, ignore_index: int, bincount):
    """(num_classes, num_classes) counts of (truth, prediction) over the non-ignored pixels of
    two int64 numpy arrays or torch tensors; ValueError for values outside the class ids."""
    valid = target != ignore_index
    target, pred = target[valid], pred[valid]
    out_of_range = (target < 0) | (target >= num_classes) | (pred < 0) | (pred >= num_classes)
    if bool(out_of_range.any()):
        raise ValueError(
            f"prediction or target holds values outside the class ids 0..{num_classes - 1} "
            f"(and ignore_index {ignore_index}), e.g. target "
            f"{target[out_of_range][:5].tolist()}, prediction {pred[out_of_range][:5].tolist()}"
        )
    counts = bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def scores_from_confusion(
    confusion: np.ndarray | torch.Tensor,
    class_names: Sequence[str],
    background_id: int = 0,
) -> dict:
    """Per-class and mean scores of a confusion matrix (rows = ground truth), JSON-ready.

    Returns a dict with
    ``dice``, ``iou``, ``precision``, ``recall``: {class name: float | None};
    ``support``: {class name: ground-truth pixel count};
    ``mdice``, ``miou``: means over all classes, background included;
    ``fg_mdice``, ``fg_miou``: means over the classes other than ``background_id``;
    ``pixel_accuracy``: correctly classified pixels / all pixels;
    ``confusion_normalized``: rows divided by their sums (list of lists; rows with no
    ground-truth pixels are all 0, as in scikit-learn).

    Undefined values are None rather than NaN, so the dict can be written as JSON: a class absent
    from both ground truth and prediction has no Dice / IoU, a class never predicted has no
    precision, a class absent from the ground truth has no recall, and a mean over only undefined
    classes is None.
    """
    matrix = _as_counts(confusion)
    num_classes = matrix.shape[0]
    if len(class_names) != num_classes:
        raise ValueError(
            f"{len(class_names)} class names {list(class_names)} for a "
            f"{num_classes}x{num_classes} confusion matrix"
        )
    if not 0 <= background_id < num_classes:
        raise ValueError(f"background_id {background_id} is not a class id 0..{num_classes - 1}")
    true_positive = np.diag(matrix)
    ground_truth = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    dice = _dice_per_class(matrix)
    iou = _ratio(true_positive, ground_truth + predicted - true_positive)
    foreground = np.arange(num_classes) != background_id
    total = matrix.sum()
    row_sums = np.where(ground_truth > 0, ground_truth, 1)[:, None]

    def per_class(values: np.ndarray) -> dict[str, float | None]:
        return {name: _json_float(value) for name, value in zip(class_names, values, strict=True)}

    return {
        "dice": per_class(dice),
        "iou": per_class(iou),
        "precision": per_class(_ratio(true_positive, predicted)),
        "recall": per_class(_ratio(true_positive, ground_truth)),
        "support": {
            name: int(count) for name, count in zip(class_names, ground_truth, strict=True)
        },
        "mdice": _json_float(_nanmean(dice)),
        "fg_mdice": _json_float(_nanmean(dice[foreground])),
        "miou": _json_float(_nanmean(iou)),
        "fg_miou": _json_float(_nanmean(iou[foreground])),
        "pixel_accuracy": _json_float(true_positive.sum() / total if total else math.nan),
        "confusion_normalized": (matrix / row_sums).tolist(),
    }


def mean_dice(confusion: np.ndarray | torch.Tensor) -> float:
    """Mean Dice over the classes present in a confusion matrix's truth or prediction; NaN
    if none."""
    return float(_nanmean(_dice_per_class(_as_counts(confusion))))


def _as_counts(confusion: np.ndarray | torch.Tensor) -> np.ndarray:
    matrix = confusion.detach().cpu().numpy() if isinstance(confusion, torch.Tensor) else confusion
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {matrix.shape}")
    return matrix


def _dice_per_class(matrix: np.ndarray) -> np.ndarray:
    true_positive = np.diag(matrix)
    return _ratio(2 * true_positive, matrix.sum(axis=1) + matrix.sum(axis=0))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (the score is undefined)."""
    safe = np.where(denominator > 0, denominator, 1)
    return np.where(denominator > 0, numerator / safe, np.nan)


def _nanmean(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else math.nan


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
