"""The seed study's statistics, checked against numbers worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from multiclass_segmentation.analysis.study_statistics import (
    mdice_of_confusions,
    paired_bootstrap,
    pooled_image_confusions,
    seed_interval,
    summarise_study,
    verdict,
)

PERFECT = [[5, 0], [0, 5]]
NOISY = [[4, 1], [1, 4]]


# --- seed_interval -------------------------------------------------------------------------


def test_seed_interval_of_three_seeds():
    # mean 0.82; deviations -0.02, 0, +0.02 -> sd = sqrt(0.0008 / 2) = 0.02;
    # t_{0.975, 2} = 4.302653 -> half width 4.302653 * 0.02 / sqrt(3) = 0.049683.
    result = seed_interval([0.80, 0.82, 0.84])

    assert result["n"] == 3
    assert result["mean"] == pytest.approx(0.82)
    assert result["sd"] == pytest.approx(0.02)
    assert result["ci_low"] == pytest.approx(0.770317, abs=1e-6)
    assert result["ci_high"] == pytest.approx(0.869683, abs=1e-6)


def test_seed_interval_of_one_value_has_no_spread():
    assert seed_interval([0.7]) == {
        "n": 1,
        "mean": 0.7,
        "sd": None,
        "ci_low": None,
        "ci_high": None,
    }


def test_seed_interval_refuses_a_missing_score():
    with pytest.raises(ValueError, match="value 1 .* is None"):
        seed_interval([0.8, None, 0.9])


# --- mdice_of_confusions -------------------------------------------------------------------

# rows = truth, columns = prediction; class 2 is in neither.
# rowsums [6, 4, 0], colsums [7, 3, 0]
# Dice_0 = 2*5 / (6+7) = 10/13, Dice_1 = 2*2 / (4+3) = 4/7, Dice_2 undefined (left out)
# mDice = (10/13 + 4/7) / 2 = 61/91; fg (background 0) = 4/7; fg (background 1) = 10/13
HAND = [[5, 1, 0], [2, 2, 0], [0, 0, 0]]
# Dice_0 = 6/6 = 1, class 1 undefined, Dice_2 = 2/2 = 1 -> mDice 1, fg 1
SPARSE = [[3, 0, 0], [0, 0, 0], [0, 0, 1]]
EMPTY = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_mdice_of_one_matrix_leaves_out_the_absent_class():
    assert mdice_of_confusions(np.array(HAND)) == pytest.approx(61 / 91)
    assert mdice_of_confusions(np.array(HAND), foreground_only=True) == pytest.approx(4 / 7)
    assert mdice_of_confusions(
        np.array(HAND), background_id=1, foreground_only=True
    ) == pytest.approx(10 / 13)


def test_mdice_is_vectorised_over_leading_axes():
    batch = np.array([[HAND, SPARSE], [EMPTY, HAND]])  # (2, 2, 3, 3)

    mdice = mdice_of_confusions(batch)
    fg = mdice_of_confusions(batch, foreground_only=True)

    assert mdice.shape == fg.shape == (2, 2)
    np.testing.assert_allclose(mdice, [[61 / 91, 1.0], [np.nan, 61 / 91]])
    np.testing.assert_allclose(fg, [[4 / 7, 1.0], [np.nan, 4 / 7]])


# --- paired_bootstrap ----------------------------------------------------------------------

# b makes mistakes on every image; a is perfect on the same ground truth.
B_IMAGES = np.array([[[4, 1], [1, 4]], [[8, 2], [0, 10]], [[1, 1], [1, 7]]])
A_IMAGES = np.array([[[5, 0], [0, 5]], [[10, 0], [0, 10]], [[2, 0], [0, 8]]])


def test_identical_inputs_differ_by_zero():
    result = paired_bootstrap(B_IMAGES, B_IMAGES, samples=500)

    assert result["difference"] == 0.0
    assert result["ci_low"] == result["ci_high"] == 0.0
    assert result["samples"] == 500
    assert result["images"] == 3
    assert verdict(result).startswith("not shown: the 95% interval [+0.000, +0.000]")


def test_better_on_every_image_gives_an_interval_above_zero():
    # sum b = [[13, 4], [2, 21]]: rowsums [17, 23], colsums [15, 25]
    # Dice_0 = 26/32 = 0.8125, Dice_1 = 42/48 = 0.875 -> mDice 0.84375; a sums to mDice 1.
    # Any resample of a is perfect (mDice 1), any resample of b has errors (mDice < 1).
    result = paired_bootstrap(A_IMAGES, B_IMAGES, samples=2000, seed=3)
    fg = paired_bootstrap(A_IMAGES, B_IMAGES, samples=2000, seed=3, foreground_only=True)

    assert result["difference"] == pytest.approx(1 - 0.84375)
    assert 0 < result["ci_low"] <= result["ci_high"]
    assert fg["difference"] == pytest.approx(1 - 0.875)
    assert fg["ci_low"] > 0
    assert verdict(result, "a", "b").startswith("real: a is better (the 95% interval [+")
    assert verdict(paired_bootstrap(B_IMAGES, A_IMAGES), "b", "a").startswith("real: a is better")


def test_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 50, size=(2, 30, 3, 3))

    first = paired_bootstrap(a, b, samples=1000, seed=1)

    assert paired_bootstrap(a, b, samples=1000, seed=1) == first
    assert paired_bootstrap(a, b, samples=1000, seed=2) != first


def test_bootstrap_is_paired_so_shared_image_difficulty_cancels():
    # 10 easy and 10 hard images, every one with 50 + 50 true pixels; a gets one more pixel of
    # each class right than b on every image. With m easy images among n resampled, both
    # confusions are symmetric with rowsums = colsums = 50 n, so Dice_c = diag_c / (50 n):
    #   b: (48 m + 30 (n - m)) / (50 n),  a: (49 m + 31 (n - m)) / (50 n)
    # and a - b = n / (50 n) = 0.02 whatever the mix m: the paired interval is [0.02, 0.02].
    easy_b, easy_a = [[48, 2], [2, 48]], [[49, 1], [1, 49]]
    hard_b, hard_a = [[30, 20], [20, 30]], [[31, 19], [19, 31]]
    a = np.array([easy_a] * 10 + [hard_a] * 10)
    b = np.array([easy_b] * 10 + [hard_b] * 10)

    result = paired_bootstrap(a, b, samples=2000)

    assert result["difference"] == pytest.approx(0.02)
    assert result["ci_low"] == pytest.approx(0.02, abs=1e-12)
    assert result["ci_high"] == pytest.approx(0.02, abs=1e-12)
    # Resampled apart, the mixes differ: a - b = 0.02 + 0.36 (f_a - f_b), f = easy fraction
    # ~ Binomial(20, 1/2) / 20, so the unpaired interval is about +-0.2 wide.
    fractions = np.random.default_rng(0).binomial(20, 0.5, size=(2, 2000)) / 20
    unpaired = np.quantile(0.02 + 0.36 * (fractions[0] - fractions[1]), [0.025, 0.975])
    assert unpaired[1] - unpaired[0] > 0.15


def test_bootstrap_refuses_different_image_sets():
    with pytest.raises(ValueError, match="same images"):
        paired_bootstrap(A_IMAGES, B_IMAGES[:2])


def test_verdict_wording():
    assert (
        verdict({"ci_low": -0.004, "ci_high": 0.012, "confidence": 0.95})
        == "not shown: the 95% interval [-0.004, +0.012] includes 0"
    )
    assert (
        verdict({"ci_low": -0.012, "ci_high": -0.004, "confidence": 0.9}, "focal", "base")
        == "real: base is better (the 90% interval [-0.012, -0.004] excludes 0)"
    )
    assert verdict({"ci_low": None, "ci_high": None}) == "not shown: the interval is undefined"


# --- pooled_image_confusions ---------------------------------------------------------------


def metrics_with(images: dict[str, list], split: str = "test", **scores) -> dict:
    """A run's metrics whose ``split`` has the given per-image confusions and scores."""
    per_image = [{"id": key, "dice": 0.5, "confusion": value} for key, value in images.items()]
    return {"hypothesis": "h", split: {"per_image_dice": per_image, **scores}}


def test_pooled_confusions_sum_runs_aligned_by_image_id():
    first = metrics_with({"0001": PERFECT, "0002": NOISY})
    second = metrics_with({"0002": [[1, 2], [3, 4]], "0001": [[1, 0], [0, 1]]})

    ids, pooled = pooled_image_confusions([first, second])

    assert ids == ["0001", "0002"]
    np.testing.assert_array_equal(pooled, [[[6, 0], [0, 6]], [[5, 3], [4, 8]]])


def test_pooled_confusions_name_the_run_with_other_images():
    first = metrics_with({"0001": PERFECT, "0002": NOISY})
    other = metrics_with({"0001": PERFECT, "0003": NOISY})

    with pytest.raises(ValueError, match=r"base\.seed_43 scored other test images"):
        pooled_image_confusions([first, other], names=["base.seed_42", "base.seed_43"])


def test_pooled_confusions_name_a_run_without_confusions():
    legacy = {"hypothesis": "h", "test": {"per_image_dice": [{"id": "0001", "dice": 0.9}]}}

    with pytest.raises(ValueError, match=r"base\.seed_42 has no per-image confusion"):
        pooled_image_confusions([legacy], names=["base.seed_42"])


# --- summarise_study -----------------------------------------------------------------------

IDS = ("0001", "0002", "0003")
# Ensemble images: [[5, 0], [1, 4]] x 3 -> sum [[15, 0], [3, 12]], rowsums [15, 15],
# colsums [18, 12]: Dice_0 = 30/33 = 10/11, Dice_1 = 24/27 = 8/9, mDice = 89/99.
ENSEMBLE_IMAGE = [[5, 0], [1, 4]]


def run_metrics(hypothesis: str, val: float, test: float, image: list, epochs: int = 10) -> dict:
    """A run scoring ``image`` on each of the 3 test images, with the given val/test mDice."""
    per_image = [{"id": key, "dice": test, "confusion": image} for key in IDS]
    return {
        "hypothesis": hypothesis,
        "model": {"epochs_run": epochs},
        "val": {"mdice": val, "fg_mdice": val - 0.1},
        "test": {"mdice": test, "fg_mdice": test - 0.1, "per_image_dice": per_image},
    }


@pytest.fixture(scope="module")
def study() -> dict:
    # focal wins on validation (mean 0.85 vs 0.81 and 0.83) but loses on test.
    runs = {
        "base.seed_42": run_metrics("base", 0.80, 1.0, PERFECT, epochs=20),
        "base.seed_43": run_metrics("base", 0.82, 1.0, PERFECT, epochs=22),
        "focal.seed_42": run_metrics("focal", 0.84, 0.8, NOISY),
        "focal.seed_43": run_metrics("focal", 0.86, 0.8, NOISY),
        "base_ensemble": run_metrics("base_ensemble", 0.83, 89 / 99, ENSEMBLE_IMAGE),
    }
    del runs["base_ensemble"]["model"]
    plan = {
        "hypotheses": {
            "base": ["base.seed_42", "base.seed_43"],
            "focal": ["focal.seed_42", "focal.seed_43"],
        },
        "ensembles": {
            "base_ensemble": {"members": ["base.seed_42", "base.seed_43"], "weights": [1.0, 1.0]}
        },
    }
    return summarise_study(runs, plan, samples=500)


def test_study_lists_every_run(study):
    assert study["runs"]["base.seed_43"] == {
        "hypothesis": "base",
        "seed": 43,
        "val_mdice": 0.82,
        "val_fg_mdice": pytest.approx(0.72),
        "test_mdice": 1.0,
        "test_fg_mdice": pytest.approx(0.9),
        "epochs_run": 22,
    }
    assert study["runs"]["base_ensemble"]["seed"] is None
    assert study["runs"]["base_ensemble"]["epochs_run"] is None
    assert set(study["runs"]) == {
        "base.seed_42",
        "base.seed_43",
        "focal.seed_42",
        "focal.seed_43",
        "base_ensemble",
    }


def test_study_summarises_each_hypothesis_over_its_seeds(study):
    base = study["summary"]["base"]
    # val: mean 0.81, sd 0.01 * sqrt(2) = 0.0141421; t_{0.975, 1} = 12.706205
    # -> half width 12.706205 * 0.0141421 / sqrt(2) = 0.127062.
    assert base["kind"] == "single"
    assert base["runs"] == ["base.seed_42", "base.seed_43"]
    assert base["val_mdice"]["mean"] == pytest.approx(0.81)
    assert base["val_mdice"]["sd"] == pytest.approx(0.01 * math.sqrt(2))
    assert base["val_mdice"]["ci_low"] == pytest.approx(0.81 - 0.127062, abs=1e-6)
    assert base["val_mdice"]["ci_high"] == pytest.approx(0.81 + 0.127062, abs=1e-6)
    assert study["summary"]["focal"]["val_mdice"]["mean"] == pytest.approx(0.85)
    assert study["summary"]["focal"]["test_mdice"]["mean"] == pytest.approx(0.8)
    ensemble = study["summary"]["base_ensemble"]
    assert ensemble["kind"] == "ensemble"
    assert ensemble["val_mdice"] == {
        "n": 1,
        "mean": 0.83,
        "sd": None,
        "ci_low": None,
        "ci_high": None,
    }


def test_study_picks_the_best_on_validation_not_test(study):
    assert study["best"] == "focal"
    assert study["best_selected_by"] == "mean val mDice"
    assert study["confidence"] == 0.95


def test_study_compares_the_best_with_every_other_entry(study):
    found = {(c["other"], c["metric"]): c for c in study["comparisons"]}

    assert set(found) == {
        ("base", "test_mdice"),
        ("base", "test_fg_mdice"),
        ("base_ensemble", "test_mdice"),
        ("base_ensemble", "test_fg_mdice"),
    }
    assert all(c["best"] == "focal" and c["images"] == 3 for c in study["comparisons"])
    # focal pooled: [[8, 2], [2, 8]] per image -> Dice 16/20 = 0.8 for both classes.
    # base pooled is perfect -> 1; the ensemble: mDice 89/99, fg 8/9. Every image alike,
    # so every resample gives the same difference.
    base = found["base", "test_mdice"]
    assert base["difference"] == pytest.approx(0.8 - 1.0)
    assert base["ci_low"] == pytest.approx(-0.2)
    assert base["ci_high"] == pytest.approx(-0.2)
    assert base["verdict"].startswith("real: base is better")
    assert found["base", "test_fg_mdice"]["difference"] == pytest.approx(-0.2)
    assert found["base_ensemble", "test_mdice"]["difference"] == pytest.approx(0.8 - 89 / 99)
    assert found["base_ensemble", "test_fg_mdice"]["difference"] == pytest.approx(0.8 - 8 / 9)


def test_study_reports_each_ensemble_against_its_best_member(study):
    ensemble = study["ensembles"]["base_ensemble"]

    assert ensemble["members"] == ["base.seed_42", "base.seed_43"]
    assert ensemble["weights"] == [1.0, 1.0]
    assert ensemble["test_mdice"] == pytest.approx(89 / 99)
    assert ensemble["members_test_mdice"] == {"base.seed_42": 1.0, "base.seed_43": 1.0}
    assert ensemble["best_member"] == "base.seed_43"  # val 0.82 > 0.80
    against = ensemble["against_best_member"]
    assert against["member"] == "base.seed_43"
    assert against["difference"] == pytest.approx(89 / 99 - 1)
    assert against["verdict"].startswith("real: base.seed_43 is better")


def test_study_is_json_ready(study):
    assert json.loads(json.dumps(study, allow_nan=False)) == study


def test_study_names_a_run_without_metrics():
    plan = {"hypotheses": {"base": ["base.seed_42"]}}

    with pytest.raises(ValueError, match=r"base\.seed_42"):
        summarise_study({}, plan)


# --- the shift benchmark in a study ---------------------------------------------------------


def robustness_of(scale: list, corrupted: list, figures: dict) -> dict:
    """A run's robustness.json: a close-up scoring ``scale`` and one noise cell scoring
    ``corrupted`` on each of the 3 test images, and its summary ``figures``."""

    def view(family: str, level: float, image: list) -> dict:
        return {
            "family": family,
            "level": level,
            "per_image_dice": [{"id": key, "dice": None, "confusion": image} for key in IDS],
        }

    summary = {"val": {"scale_mdice": figures["val"], "mpc": figures["val"]}, "test": figures}
    return {
        "summary": summary,
        "views": {
            "test": {
                "closeup_40": view("scale", 0.4, scale),
                "noise_1": view("noise", 1, corrupted),
            }
        },
    }


def test_study_compares_hypotheses_on_the_shifted_views():
    runs = {
        "base.seed_1": run_metrics("base", 0.80, 1.0, PERFECT),
        "jitter.seed_1": run_metrics("jitter", 0.79, 1.0, PERFECT),
    }
    figures = {"val": 0.5, "scale_mdice": 0.8, "mpc": 1.0, "rpc": 1.0}
    robustness = {
        "base.seed_1": robustness_of(NOISY, PERFECT, figures),
        "jitter.seed_1": robustness_of(PERFECT, NOISY, {**figures, "scale_mdice": 1.0}),
    }
    plan = {"hypotheses": {"base": ["base.seed_1"], "jitter": ["jitter.seed_1"]}}

    study = summarise_study(runs, plan, samples=200, robustness=robustness)

    assert study["runs"]["jitter.seed_1"]["test_scale_mdice"] == 1.0
    assert study["runs"]["base.seed_1"]["val_mpc"] == 0.5
    assert study["summary"]["jitter"]["test_scale_mdice"]["mean"] == 1.0
    found = {c["metric"]: c for c in study["comparisons"] if c["other"] == "jitter"}
    # base is best on val; on the close-up its pooled confusion is NOISY (mDice 0.8) and
    # jitter's PERFECT (1.0); on the noise cell the other way round.
    assert found["test_scale_mdice"]["difference"] == pytest.approx(0.8 - 1.0)
    assert found["test_mpc"]["difference"] == pytest.approx(1.0 - 0.8)
    assert found["test_scale_mdice"]["verdict"].startswith("real: jitter is better")


def test_study_names_a_run_without_robustness_scores():
    runs = {"base.seed_1": run_metrics("base", 0.80, 1.0, PERFECT)}
    with pytest.raises(ValueError, match=r"\['base.seed_1'\] have no robustness"):
        summarise_study(runs, {"hypotheses": {"base": ["base.seed_1"]}}, samples=10, robustness={})


def test_a_study_without_shifted_val_summarises_the_test_figures_only():
    runs = {"base.seed_1": run_metrics("base", 0.80, 1.0, PERFECT)}
    robustness = {"base.seed_1": robustness_of(NOISY, PERFECT, {"scale_mdice": 0.8, "val": 0})}
    del robustness["base.seed_1"]["summary"]["val"]

    study = summarise_study(
        runs, {"hypotheses": {"base": ["base.seed_1"]}}, samples=10, robustness=robustness
    )

    assert study["summary"]["base"]["test_scale_mdice"]["mean"] == 0.8
    assert "val_mpc" not in study["summary"]["base"]
    assert study["runs"]["base.seed_1"]["val_mpc"] is None
