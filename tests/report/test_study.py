"""What report/study.py, setup.py and conclusion.py compute for the study report's template."""

from __future__ import annotations

from multiclass_segmentation.config.results import HypothesisEntry, StudyResults
from multiclass_segmentation.report.conclusion import target_sentence
from multiclass_segmentation.report.setup import differing_parameters, tta_label
from multiclass_segmentation.report.study import Study, finding_counts, summary_table


def _study(test_mdice: dict[str, float], best: str | None) -> Study:
    """A study whose hypotheses have only a test mDice that matters."""
    entries = {
        h: HypothesisEntry(
            val_mdice=None,
            val_fg_mdice=None,
            test_mdice=test,
            test_fg_mdice=None,
            test_miou=None,
            test_dice={},
            val_dice={},
            epochs_run=None,
            evaluated_at="2026-01-02T03:04:05+00:00",
        )
        for h, test in test_mdice.items()
    }
    results = StudyResults(hypotheses=entries)
    return Study({}, {}, results, {}, {}, {}, set(), list(entries), best)


def test_nested_summary_counts_get_a_column_each():
    summaries = {"train": {"images": 3, "masks_with_class": {"cat": 2, "dog": 1}}}
    assert summary_table(summaries) == {
        "header": ["split", "images", "masks with class: cat", "masks with class: dog"],
        "rows": [["train", 3, 2, 1]],
    }


def test_findings_are_counted_by_severity_check_and_split_with_their_files():
    findings = [
        {"severity": "error", "check": "a", "split": "train", "files": ["x", "y"]},
        {"severity": "warning", "check": "b", "split": "val", "files": ["z"]},
        {"severity": "error", "check": "a", "split": "train", "files": ["w"]},
    ]
    assert finding_counts(findings) == [
        ["error", "a", "train", 2, 3],
        ["warning", "b", "val", 1, 1],
    ]


def test_the_target_sentence_says_by_how_much_it_is_reached_or_missed():
    assert target_sentence(_study({"a": 0.8}, "a"), 0.75, 2) == (
        "The target (test mDice > 0.75) is **reached**: a scores 0.80, 0.05 above it."
    )
    assert target_sentence(_study({"a": 0.7}, "a"), 0.75, 3) == (
        "The target (test mDice > 0.75) is **not reached**: a scores 0.700, 0.050 short of it."
    )
    assert target_sentence(_study({}, None), 0.75, 3) == (
        "The target (test mDice > 0.75) is **not reached yet**: no model is evaluated."
    )


def test_test_time_augmentation_and_differing_settings():
    assert tta_label({"hflip": True, "scales": [0.75, 1.0, 1.25]}) == "flip, scales 0.75/1/1.25"
    assert tta_label({"hflip": False, "scales": [1.0]}) == "none"
    assert tta_label(None) == "?"
    metrics = {
        h: {"model": {"parameters": {"image_size": size, "epochs": 5, "num_workers": w}}}
        for h, size, w in (("a", 256, 0), ("b", 320, 2))
    }
    assert differing_parameters(metrics, ["a", "b", "c"], ["num_workers"]) == {
        "image_size": ["256", "320", "-"]
    }
