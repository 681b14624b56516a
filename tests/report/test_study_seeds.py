"""The study section over seeds (report/study_seeds.py) and its filters, worked out by hand
from the hand-made study of tests/pipelines/reporting/builders.py."""

from __future__ import annotations

from multiclass_segmentation.report import format as fmt
from multiclass_segmentation.report import study_seeds
from tests.pipelines.reporting.builders import seed_study


def test_a_mean_and_its_interval_read_mean_low_high_and_a_single_run_has_no_interval():
    assert fmt.estimate(0.851, 0.812, 0.89, 3) == "0.851 [0.812, 0.890]"
    assert fmt.estimate(0.011, -0.004, 0.018, 3, sign=True) == "+0.011 [-0.004, +0.018]"
    assert fmt.estimate(0.5, None, None, 2) == "0.50 [-]"
    assert fmt.estimate(None, 0.1, 0.2, 2) == "-"
    statistics = {"n": 2, "mean": 0.848, "sd": 0.004, "ci_low": 0.81, "ci_high": 0.886}
    assert fmt.mean_interval(statistics, 3) == "0.848 [0.810, 0.886]"
    # n == 1: no interval, even where one is (wrongly) given.
    assert fmt.mean_interval({**statistics, "n": 1}, 3) == "0.848 [-]"
    assert fmt.mean_interval(None, 3) == "-"
    assert fmt.level(0.95) == "95%"
    assert fmt.level(0.975) == "97.5%"


def test_the_summary_table_has_a_row_per_hypothesis_and_ensemble_the_best_marked():
    table = study_seeds.summary_table(seed_study(), 3)
    assert table["header"] == [
        "hypothesis",
        "kind",
        "runs",
        "val mDice mean [95% CI]",
        "test mDice mean [95% CI]",
        "test fg mDice mean [95% CI]",
    ]
    assert table["rows"] == [
        [
            "base",
            "single",
            2,
            "0.848 [0.810, 0.886]",
            "0.883 [0.832, 0.934]",
            "0.831 [0.755, 0.907]",
        ],
        [
            "focal",
            "single",
            2,
            "0.844 [0.793, 0.895]",
            "0.877 [0.788, 0.966]",
            "0.824 [0.716, 0.931]",
        ],
        ["base_ensemble (best)", "ensemble", 1, "0.862 [-]", "0.898 [-]", "0.851 [-]"],
    ]


def test_the_intro_counts_hypotheses_seeds_and_ensembles():
    assert study_seeds.intro(seed_study()).startswith(
        "The study trained 2 hypotheses (base over 2 seeds (42, 43); focal over 2 seeds (42, 43)) "
        "and built 1 ensemble "
        "(base_ensemble); the best, **base_ensemble**, is chosen by mean val mDice (never by "
        "test), intervals are 95% confidence intervals, and one run is one draw"
    )
    study = seed_study()
    study["ensembles"] = {}
    del study["summary"]["base_ensemble"], study["runs"]["base_ensemble"]
    study["summary"]["base"]["runs"] = ["base.seed_42"]
    del study["runs"]["base.seed_43"], study["runs"]["focal.seed_43"]
    assert study_seeds.intro(study).startswith(
        "The study trained 2 hypotheses (base over 1 seed (42); focal over 1 seed (42)) and "
        "built no ensemble;"
    )


def test_the_comparisons_say_in_words_which_differences_are_real():
    assert study_seeds.comparison_rows(seed_study(), 3)[1] == [
        "base_ensemble",
        "base",
        "test fg mDice",
        "+0.020 [-0.004, +0.044]",
        "may be noise",
    ]
    # Real: the interval excludes 0 (test mDice against both); not: it includes 0.
    assert study_seeds.comparison_sentence(seed_study(), 3) == (
        "Real (the 95% interval excludes 0): base_ensemble above base on test mDice (+0.015) "
        "and base_ensemble above focal on test mDice (+0.021); not shown to be real (the "
        "interval includes 0, so the difference may be noise): base_ensemble above base on "
        "test fg mDice (+0.020) and base_ensemble above focal on test fg mDice (+0.027)."
    )
    assert study_seeds.is_real({"ci_low": -0.03, "ci_high": -0.01})
    assert not study_seeds.is_real({"ci_low": None, "ci_high": 0.2})
    assert study_seeds.comparison_sentence({"comparisons": []}, 3) == (
        "No paired comparison was made."
    )


def test_an_ensemble_is_set_against_each_member_and_paired_with_its_best():
    (ensemble,) = study_seeds.ensembles(seed_study(), 3)
    assert ensemble["intro"] == (
        "**base_ensemble** averages the softmax of 2 runs (base.seed_42, base.seed_43) with "
        "equal weights."
    )
    # 0.898 - 0.887 = +0.011, 0.898 - 0.879 = +0.019.
    assert ensemble["rows"] == [
        ["base_ensemble (ensemble)", "0.898", "-"],
        ["base.seed_42 (best member by validation)", "0.887", "+0.011"],
        ["base.seed_43", "0.879", "+0.019"],
    ]
    assert ensemble["against"] == (
        "Paired with its best member by validation, base.seed_42, on 120 test images (10000 "
        "bootstrap resamples): base_ensemble minus base.seed_42 is +0.011 [+0.004, +0.018] "
        "test mDice; real: base_ensemble is better (the 95% interval excludes 0)."
    )


def test_the_conclusion_bullet_gives_the_best_and_whether_it_beats_the_default():
    assert study_seeds.conclusion_bullet(seed_study(), 3) == (
        "Over seeds, the study's best is base_ensemble (by mean val mDice), with a test mDice "
        "of 0.898 (a single run, so no interval); its test mDice difference from the default "
        "base, +0.015 [+0.006, +0.024], is real (the interval excludes 0)."
    )
    study = seed_study()
    study["best"] = "focal"
    assert study_seeds.conclusion_bullet(study, 3) == (
        "Over seeds, the study's best is focal (by mean val mDice), with a test mDice of "
        "0.877 [0.788, 0.966] (mean [95% CI] over 2 runs); it was not compared with the "
        "default base on test mDice."
    )
    study["best"] = "base"
    assert study_seeds.conclusion_bullet(study, 3).endswith(
        "; it is the default hypothesis, base, itself."
    )


def test_without_a_study_there_is_no_section():
    assert study_seeds.section(None, 3) is None
    assert study_seeds.section({}, 3) is None
