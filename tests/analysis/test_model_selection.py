"""The best epoch of a run and the best hypothesis of the study, by validation mDice."""

from __future__ import annotations

import math

from multiclass_segmentation.analysis.model_selection import (
    best_epoch,
    best_hypothesis,
    ranked_hypotheses,
    recorded_best_hypothesis,
)


def test_best_epoch_is_the_one_with_the_highest_validation_mdice():
    history = [
        {"epoch": 1, "val_mdice": 0.40},
        {"epoch": 2, "val_mdice": 0.62},
        {"epoch": 3, "val_mdice": None},
        {"epoch": 4, "val_mdice": 0.55},
    ]

    assert best_epoch(history)["epoch"] == 2


def test_best_epoch_takes_the_first_of_equal_scores_and_ranks_nan_last():
    history = [
        {"epoch": 1, "val_mdice": math.nan},
        {"epoch": 2, "val_mdice": 0.5},
        {"epoch": 3, "val_mdice": 0.5},
        {"epoch": 4, "val_mdice": math.inf},
    ]

    assert best_epoch(history)["epoch"] == 2


def test_no_scored_epoch_has_no_best():
    assert best_epoch([]) is None
    assert best_epoch([{"epoch": 1, "val_mdice": None}, {"epoch": 2}]) is None


ENTRIES = {
    "unet_r34": {"val_mdice": 0.71},
    "base": {"val_mdice": 0.78},
    "unscored": {"val_mdice": None},
    "deeplabv3plus_r50": {"val_mdice": 0.71},
}


def test_hypotheses_rank_by_validation_then_name_with_unscored_last():
    assert ranked_hypotheses(ENTRIES) == ["base", "deeplabv3plus_r50", "unet_r34", "unscored"]
    assert best_hypothesis(ENTRIES) == "base"


def test_best_hypothesis_is_chosen_by_validation_not_test():
    entries = {
        "a": {"val_mdice": 0.82, "test_mdice": 0.90},
        "b": {"val_mdice": 0.85, "test_mdice": 0.78},
    }

    assert best_hypothesis(entries) == "b"


def test_the_recorded_best_model_wins_unless_it_is_not_among_the_hypotheses():
    assert recorded_best_hypothesis({"hypotheses": ENTRIES, "best_model": "unet_r34"}) == (
        "unet_r34"
    )
    assert recorded_best_hypothesis({"hypotheses": ENTRIES, "best_model": "gone"}) == "base"
    assert recorded_best_hypothesis({"hypotheses": ENTRIES}) == "base"
