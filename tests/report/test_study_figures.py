"""The study report's figures: scores by hypothesis and every hypothesis over seeds."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb

from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.report.study_figures import (
    scores_comparison_figure,
    study_seeds_figure,
)
from tests.pipelines.reporting.builders import CLASSES, seed_study, study_results

EVALUATION = EvaluationParams(target_mdice=0.75)


def test_scores_figure_bars_hold_each_class_dice_in_its_class_colour():
    figure = scores_comparison_figure(study_results(), CLASSES, EVALUATION)
    ax = figure.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == [
        "unet_r34\n(best)",
        "deeplabv3plus_r50",
    ]
    cat_bars = ax.containers[1]
    assert [bar.get_height() for bar in cat_bars] == [0.5, 0.7]
    assert np.allclose(cat_bars[0].get_facecolor()[:3], to_rgb("#f28e2b"))
    assert [bar.get_height() for bar in ax.containers[3]] == [0.70, 0.78]
    assert "target mDice 0.75" in ax.get_legend_handles_labels()[1]


def test_scores_figure_without_results_says_so():
    figure = scores_comparison_figure({}, CLASSES, EVALUATION)
    assert [text.get_text() for text in figure.axes[0].texts] == ["No hypothesis evaluated yet."]


def test_study_seeds_figure_draws_one_point_per_run_and_marks_the_best():
    figure = study_seeds_figure(seed_study())
    ax_val, ax_test = figure.axes
    assert (ax_val.get_title(), ax_test.get_title()) == ("Validation mDice", "Test mDice")
    assert ax_val.get_ylabel() == "mDice (all classes)"
    assert [tick.get_text() for tick in ax_val.get_xticklabels()] == [
        "base",
        "focal",
        "base_ensemble\n(best)",
    ]
    for ax, metric in ((ax_val, "val_mdice"), (ax_test, "test_mdice")):
        points = np.concatenate(
            [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        )
        # 2 base runs, 2 focal runs and the ensemble: 5 points, each at its hypothesis's x.
        assert len(points) == 5
        assert sorted(np.round(points[:, 1], 3)) == sorted(
            run[metric] for run in seed_study()["runs"].values()
        )
        assert np.all(np.abs(points[:, 0] - np.round(points[:, 0])) <= 0.12 + 1e-9)
