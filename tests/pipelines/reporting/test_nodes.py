"""Unit tests of the reporting nodes on hand-made reports, results, metrics and histories."""

from __future__ import annotations

from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.reporting import ReportingParams
from multiclass_segmentation.pipelines.reporting.nodes import (
    HISTORY_VERSION,
    SWEEP_VERSION,
    latest_metrics,
    newest_by_hypothesis,
    render_study_report,
)
from tests.pipelines.reporting.builders import (
    CLASSES,
    eda_report,
    history,
    metrics,
    seed_study,
    study_results,
    validation_report,
)

EVALUATION = EvaluationParams(target_mdice=0.75)
REPORTING = ReportingParams()
OLD, NEW, NEWEST = (
    "2026-01-01T10.00.00.000Z",
    "2026-02-01T10.00.00.000Z",
    "2026-03-01T10.00.00.000Z",
)


def _loader(value):
    return lambda: value


def _never_loaded():
    raise AssertionError("a version older than the one needed was loaded")


def test_latest_metrics_are_the_newest_version_of_each_hypothesis_in_the_results():
    json_files = {
        f"metrics.json/{OLD}/metrics": _never_loaded,
        f"metrics.json/{NEW}/metrics": _loader(metrics("deeplabv3plus_r50", image_size=1)),
        f"metrics.json/{NEWEST}/metrics": _loader(metrics("unet_r34", image_size=2)),
        # Another environment's reporting folder below this one, and other reports.
        f"demo/metrics.json/{NEWEST}/metrics": _never_loaded,
        "results": _never_loaded,
        "data_validation": _never_loaded,
    }
    latest = latest_metrics(json_files, study_results())
    assert set(latest) == {"deeplabv3plus_r50", "unet_r34"}
    assert latest["deeplabv3plus_r50"]["model"]["parameters"]["image_size"] == 1
    assert latest["unet_r34"]["model"]["parameters"]["image_size"] == 2


def test_latest_metrics_leave_out_hypotheses_missing_from_the_results():
    json_files = {f"metrics.json/{OLD}/metrics": _loader(metrics("dropped"))}
    assert latest_metrics(json_files, study_results()) == {}
    assert latest_metrics(json_files, {}) == {}


def test_latest_histories_are_the_newest_of_every_hypothesis_with_one():
    json_files = {
        f"training_history_unet_r34.json/{OLD}/training_history_unet_r34": _never_loaded,
        f"training_history_unet_r34.json/{NEW}/training_history_unet_r34": _loader(history(3, 0.7)),
        # Not evaluated yet: its history is still shown.
        f"training_history_base.json/{OLD}/training_history_base": _loader(history(2, 0.5)),
        f"metrics.json/{NEW}/metrics": _never_loaded,
        "eda": _never_loaded,
    }
    histories = newest_by_hypothesis(json_files, HISTORY_VERSION)
    assert list(histories) == ["base", "unet_r34"]
    assert [epoch["epoch"] for epoch in histories["unet_r34"]] == [1, 2, 3]


def _report(results: dict, figures: tuple[str, ...] = (), sweeps: dict | None = None) -> str:
    return render_study_report(
        validation_report(),
        eda_report(),
        results,
        {
            "unet_r34": metrics("unet_r34", best_epoch=27, tta={"hflip": True, "scales": [1.0]}),
            "deeplabv3plus_r50": metrics(
                "deeplabv3plus_r50",
                "DeepLabV3Plus",
                320,
                30,
                tta={"hflip": True, "scales": [0.75, 1.0, 1.25]},
            ),
        },
        {"unet_r34": history(30, 0.76)},
        sweeps,
        dict.fromkeys(figures, _never_loaded),
        CLASSES,
        EVALUATION,
        REPORTING,
    )


def _headings(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith("## ")]


def test_the_template_numbers_the_sections_it_renders():
    common = [
        "## 1. Dataset and validation findings",
        "## 2. Exploratory data analysis",
        "## 3. Hypotheses",
        "## 4. Learning curves",
        "## 5. Best model",
        "## 6. Error analysis",
    ]
    # No robustness and no study: the sweeps follow the error analysis.
    assert _headings(_report(study_results())) == [*common, "## 7. Sweeps", "## 8. Conclusion"]
    with_study = {**study_results(), "study": seed_study()}
    assert _headings(_report(with_study)) == [
        *common,
        "## 7. Study: hypotheses over seeds",
        "## 8. Sweeps",
        "## 9. Conclusion",
    ]


def test_report_has_one_setup_and_one_score_row_per_hypothesis_best_first():
    report = _report(study_results())
    lines = report.splitlines()
    assert (
        "| unet_r34 | Unet | resnet34 | imagenet | cross_entropy; class weights [0.1, 1.2, 1.2] "
        "| adamw, lr 0.0002, weight decay 0.0001 | 30 of 30 (best 27) | HorizontalFlip, Rotate "
        "| flip |"
    ) in lines
    deeplab_setup = next(line for line in lines if line.startswith("| deeplabv3plus_r50 | Deep"))
    assert deeplab_setup.endswith("| flip, scales 0.75/1/1.25 |")
    assert lines.index(next(line for line in lines if line.startswith("| unet_r34 |"))) < (
        lines.index(next(line for line in lines if line.startswith("| deeplabv3plus_r50 |")))
    )
    assert "| unet_r34 (best) | 0.760 | 0.670 | 0.700 | 0.600 | 0.900 | 0.500 | 0.700 |" in lines
    assert "| deeplabv3plus_r50 | 0.740 | 0.660 | 0.780 | 0.680 | 0.950 | 0.700 | 0.690 |" in lines
    # Only the image size differs besides the setup columns; checkpoint_dir is not compared.
    assert "| image_size | 256 | 320 |" in lines
    assert not any("checkpoint_dir" in line for line in lines)


def test_report_names_the_best_model_by_validation_and_says_the_target_is_not_reached():
    report = _report(study_results(unet_test=0.70, deeplab_test=0.78))
    assert (
        "Best model: **unet_r34**, chosen by validation mDice (0.760); its test mDice is 0.700."
    ) in report
    assert (
        "The target (test mDice > 0.75) is **not reached**: unet_r34 scores 0.700, "
        "0.050 short of it."
    ) in report
    # The other hypothesis is better on test, yet the choice stays with validation.
    assert "On test, deeplabv3plus_r50 scores higher (0.780)" in report


def test_report_says_the_target_is_reached_when_the_best_test_mdice_is_above_it():
    report = _report(study_results(unet_test=0.80))
    assert (
        "The target (test mDice > 0.75) is **reached**: unet_r34 scores 0.800, 0.050 above it."
    ) in report
    assert "On test," not in report


def test_report_counts_every_validation_finding_and_lists_them():
    lines = _report(study_results()).splitlines()
    assert "| error | image_without_mask | train | 1 | 2 |" in lines
    assert "| warning | duplicate_images | val | 2 | 4 |" in lines
    assert "| train | 10 | 9 | 1 | 0 | 9 | 9 | 1 | 6 | 2 | 5 | 4 |" in lines
    listed = [line for line in lines if line.startswith("- **")]
    assert len(listed) == 3
    assert "`img/val/d_copy.jpg`" in listed[2]


def test_report_shows_eda_tables_and_links_only_saved_figures():
    lines = _report(
        study_results(), figures=("eda_class_pixels", "error_examples_unet_r34")
    ).splitlines()
    assert "| cat | 6.0% | 5.0% | 4.0% |" in lines
    assert "| median_frequency (recommended) | 0.200 | 1.300 | 1.500 |" in lines
    assert "- [Class pixels](figures/eda_class_pixels.png)" in lines
    assert "![Worst and best test images, unet_r34](figures/error_examples_unet_r34.png)" in lines
    assert not any("confusion_and_size_recall_unet_r34" in line for line in lines)
    assert not any("error_examples_deeplabv3plus_r50" in line for line in lines)


def test_report_error_analysis_gives_confusions_and_recall_by_size():
    report = _report(study_results())
    lines = report.splitlines()
    assert "| cat | 20.0% | 50.0% | 30.0% |" in lines
    assert "30.0% of cat pixels are predicted as dog" in report
    assert "10.0% of dog pixels are predicted as cat" in report
    assert "| cat | 0.250 (4) | 0.750 (6) |" in lines
    assert "| dog | - (0) | 0.800 (5) |" in lines
    assert "cat object recall rises from 0.250 (0%-2% of the image) to 0.750" in report


def test_report_before_any_training_says_so_in_every_model_section():
    report = render_study_report(
        validation_report(), eda_report(), {}, {}, {}, {}, {}, CLASSES, EVALUATION, REPORTING
    )
    for number in range(1, 9):
        assert f"\n## {number}. " in report
    assert report.count("No hypothesis has been evaluated yet") == 3  # hypotheses, errors, end
    assert "No training history saved yet" in report
    assert "The target (test mDice > 0.75) is **not reached yet**" in report
    assert "report_scores.png" not in report
    assert "No EDA figure saved yet" in report


def _sweep_trial(number: int, state: str, value: float | None, lr: float) -> dict:
    return {
        "number": number,
        "state": state,
        "value": value,
        "params": {"optimizer.lr": lr},
        "base": number == 0,
    }


def test_report_shows_the_latest_sweep_of_each_hypothesis_best_against_base():
    trials = [
        _sweep_trial(0, "COMPLETE", 0.70, 1e-3),
        _sweep_trial(1, "COMPLETE", 0.74, 2e-3),
        _sweep_trial(2, "PRUNED", None, 1e-4),
    ]
    summary = {
        "study_name": "base",
        "states": {"COMPLETE": 2, "PRUNED": 1},
        "trials": trials,
        "best_trial": trials[1],
        "base_trial": trials[0],
    }
    json_files = {
        f"sweep_base.json/{OLD}/sweep_base": _never_loaded,
        f"sweep_base.json/{NEW}/sweep_base": _loader(summary),
        f"training_history_base.json/{NEW}/training_history_base": _never_loaded,
    }
    sweeps = newest_by_hypothesis(json_files, SWEEP_VERSION)
    assert list(sweeps) == ["base"]

    report = _report(study_results(), figures=("sweep_history_base",), sweeps=sweeps)
    section = report.split("## 7. Sweeps")[1].split("## 8. Conclusion")[0]
    assert "3 trials (2 COMPLETE, 1 PRUNED)" in section
    assert "Best: trial 1, val mDice 0.7400" in section
    assert "+0.0400 above it" in section  # 0.74 - 0.70
    assert "figures/sweep_history_base.png" in section
    assert "sweep_importances_base" not in section  # not saved: not linked


def test_report_without_a_sweep_says_how_to_run_one():
    section = _report(study_results()).split("## 7. Sweeps")[1]
    assert "No sweep yet" in section


def _with_seed_study() -> dict:
    results = study_results()
    results["study"] = seed_study()
    return results


def test_report_with_a_study_shows_it_before_the_sweeps_and_renumbers_them():
    report = _report(_with_seed_study())
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings[6:] == [
        "## 7. Study: hypotheses over seeds",
        "## 8. Sweeps",
        "## 9. Conclusion",
    ]
    section = report.split("## 7. Study: hypotheses over seeds")[1].split("## 8. Sweeps")[0]
    lines = section.splitlines()
    assert (
        "| hypothesis | kind | runs | val mDice mean [95% CI] | test mDice mean [95% CI] "
        "| test fg mDice mean [95% CI] |"
    ) in lines
    assert (
        "| base | single | 2 | 0.848 [0.810, 0.886] | 0.883 [0.832, 0.934] | 0.831 [0.755, 0.907] |"
    ) in lines
    assert (
        "| focal | single | 2 | 0.844 [0.793, 0.895] | 0.877 [0.788, 0.966] "
        "| 0.824 [0.716, 0.931] |"
    ) in lines
    # One run: the interval is '-'.
    assert "| base_ensemble (best) | ensemble | 1 | 0.862 [-] | 0.898 [-] | 0.851 [-] |" in lines
    assert (
        "![Validation and test mDice of every hypothesis, one point per seed]"
        "(figures/study_seeds.png)"
    ) in lines
    assert "### Paired comparisons (test images, bootstrap, seeds pooled)" in lines
    assert "| best | other | metric | difference [CI] | verdict |" in lines
    assert "| base_ensemble | base | test mDice | +0.015 [+0.006, +0.024] | real |" in lines
    assert (
        "| base_ensemble | focal | test fg mDice | +0.027 [-0.001, +0.055] | may be noise |"
    ) in lines
    assert (
        "Real (the 95% interval excludes 0): base_ensemble above base on test mDice (+0.015) "
        "and base_ensemble above focal on test mDice (+0.021); not shown to be real"
    ) in section
    assert "| base.seed_43 | 0.879 | +0.019 |" in lines
    assert "base_ensemble minus base.seed_42 is +0.011 [+0.004, +0.018] test mDice" in section


def test_report_conclusion_says_whether_the_study_best_beats_the_default():
    conclusion = _report(_with_seed_study()).split("## 9. Conclusion")[1]
    assert conclusion.splitlines()[-1] == (
        "- Over seeds, the study's best is base_ensemble (by mean val mDice), with a test mDice "
        "of 0.898 (a single run, so no interval); its test mDice difference from the default "
        "base, +0.015 [+0.006, +0.024], is real (the interval excludes 0)."
    )


def test_report_without_a_study_has_no_study_section_and_the_same_text():
    report = _report(study_results())
    assert "Study: hypotheses over seeds" not in report
    assert "study_seeds.png" not in report
    assert "Over seeds" not in report
    assert "\n## 7. Sweeps\n" in report
    assert "\n## 8. Conclusion\n" in report
    # The study adds its section and one bullet, and changes nothing else.
    with_study = _report(_with_seed_study())
    before, after = with_study.split("## 7. Study")[0], with_study.split("## 8. Sweeps")[1]
    assert before == report.split("## 7. Sweeps")[0]
    assert (
        after.replace("## 9. Conclusion", "## 8. Conclusion").rsplit("\n- ", 1)[0] + "\n"
        == (report.split("## 7. Sweeps")[1])
    )
