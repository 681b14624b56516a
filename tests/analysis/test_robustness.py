"""P, mPC and rPC from view scores, per-view confusion stacks, the bootstrap over views."""

from __future__ import annotations

import numpy as np
import pytest

from multiclass_segmentation.analysis.robustness import split_summary, view_confusions
from multiclass_segmentation.analysis.study_statistics import paired_bootstrap


def view(family: str, level: float, mdice: float | None) -> dict:
    return {
        "family": family,
        "level": level,
        "images": 4,
        "mdice": mdice,
        "fg_mdice": None,
        "dice": {},
    }


def test_p_mpc_and_rpc_follow_their_definitions():
    views = {
        "closeup_40": view("scale", 0.4, 0.70),
        "closeup_80": view("scale", 0.8, 0.50),
        "zoomout_50": view("scale", 0.5, 0.60),
        "noise_1": view("noise", 1, 0.80),
        "noise_2": view("noise", 2, 0.60),
        "blur_1": view("blur", 1, 0.70),
        "blur_2": view("blur", 2, None),  # no class scored: left out of the means
    }

    summary = split_summary(views, {"mdice": 0.8, "dice": {"cat": 0.7}}, ["noise", "blur"])

    assert summary["clean_mdice"] == 0.8
    assert summary["scale_mdice"] == pytest.approx((0.7 + 0.5 + 0.6) / 3)
    assert summary["closeup_mdice"] == pytest.approx(0.6)
    assert summary["zoomout_mdice"] == pytest.approx(0.6)
    assert summary["mpc"] == pytest.approx((0.8 + 0.6 + 0.7) / 3)
    assert summary["rpc"] == pytest.approx(0.7 / 0.8)
    assert list(summary["family_mdice"]) == ["noise", "blur"]
    assert summary["family_mdice"]["noise"] == {
        "mean": pytest.approx(0.7),
        "by_severity": {"1": 0.8, "2": 0.6},
    }


def test_without_corruptions_mpc_and_rpc_are_none():
    summary = split_summary({"zoomout_50": view("scale", 0.5, 0.4)}, {"mdice": 0.8})
    assert summary["mpc"] is None and summary["rpc"] is None
    assert summary["scale_mdice"] == 0.4


def test_view_confusions_stack_images_by_view_with_zeros_where_absent():
    one = [[3, 1], [0, 2]]
    views = {
        "a": {"per_image_dice": [{"id": "x", "confusion": one}]},
        "b": {"per_image_dice": [{"id": "y", "confusion": one}, {"id": "y", "confusion": one}]},
    }

    stack = view_confusions(views, ["a", "b"], ["x", "y", "z"])

    assert stack.shape == (3, 2, 2, 2)
    assert stack[0, 0].tolist() == one and stack[1, 1].tolist() == [[6, 2], [0, 4]]
    assert stack[0, 1].sum() == stack[1, 0].sum() == stack[2].sum() == 0


def test_the_bootstrap_over_views_averages_each_views_mdice():
    # Two images, two views, 2 classes. Model a is right everywhere; model b confuses
    # every class-1 pixel of view 2 (worked by hand below).
    right = np.array([[4, 0], [0, 4]])
    wrong = np.array([[4, 0], [4, 0]])
    a = np.stack([np.stack([right, right])] * 2)
    b = np.stack([np.stack([right, wrong])] * 2)

    result = paired_bootstrap(a, b, samples=200, seed=0)

    # b's view 2, summed over both images: Dice_0 = 2*8 / (8 + 16) = 2/3, Dice_1 = 0
    # (no true positive, 8 ground truth): mDice 1/3; its mean over views (1 + 1/3) / 2.
    assert result["difference"] == pytest.approx(1 - (1 + 1 / 3) / 2)
    # Both images are alike, so every resample gives the same difference.
    assert result["ci_low"] == pytest.approx(result["difference"])
    assert result["ci_high"] == pytest.approx(result["difference"])
