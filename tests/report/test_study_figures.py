"""The figure of the study over seeds, from a hand-made results.json "study"."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection

from multiclass_segmentation.report.study_figures import study_seeds_figure
from tests.pipelines.reporting.builders import seed_study


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
