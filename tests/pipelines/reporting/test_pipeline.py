"""The reporting pipeline in the demo environment: before any training, then after a demo run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import copy_project, run_kedro

REPORTING = Path("data/08_reporting/demo")
SECTIONS = (
    "## 1. Dataset and validation findings",
    "## 2. Exploratory data analysis",
    "## 3. Hypotheses",
    "## 4. Learning curves",
    "## 5. Best model",
    "## 6. Error analysis",
)
# Before any model, no robustness either; a default run scores the shifted views.
LATER_SECTIONS = ("## 7. Sweeps", "## 8. Conclusion")
LATER_SECTIONS_WITH_ROBUSTNESS = (
    "## 7. Robustness: scores outside the test split",
    "## 8. Sweeps",
    "## 9. Conclusion",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """report.md after data_validation and eda only, then after `kedro run --env demo`."""
    project = copy_project(tmp_path_factory.mktemp("reporting"))
    # From the project folder, as `kedro run`: later stages read the files of dataset.root.
    for pipeline in ("data_validation", "eda", "reporting"):
        run_kedro(project, env="demo", pipeline=pipeline)
    before = (project / REPORTING / "report.md").read_text()
    run_kedro(project, env="demo")
    return {"project": project, "before": before, "after": (project / REPORTING / "report.md")}


@pytest.mark.slow
def test_report_before_training_has_every_section_and_says_nothing_is_evaluated(reports: dict):
    before = reports["before"]
    assert all(section in before for section in (*SECTIONS, *LATER_SECTIONS))
    assert "Robustness" not in before
    assert "No hypothesis has been evaluated yet" in before
    assert "No training history saved yet" in before
    assert "- [Samples](figures/eda_samples.png)" in before


@pytest.mark.slow
def test_default_run_ends_with_a_report_that_has_the_demo_hypothesis(reports: dict):
    project = reports["project"]
    report = reports["after"].read_text()
    lines = report.splitlines()
    results = json.loads((project / REPORTING / "results.json").read_text())
    demo = results["hypotheses"]["demo"]

    assert all(section in report for section in (*SECTIONS, *LATER_SECTIONS_WITH_ROBUSTNESS))
    assert "No hypothesis has been evaluated yet" not in report
    assert any(line.startswith("| demo | Unet | resnet18 | none (random init) |") for line in lines)
    assert any(
        line.startswith(f"| demo (best) | {demo['val_mdice']:.3f} | {demo['val_fg_mdice']:.3f} | ")
        for line in lines
    )
    assert f"Best model: **demo**, chosen by validation mDice ({demo['val_mdice']:.3f})" in report
    reached = "**reached**" if demo["test_mdice"] > 0.75 else "**not reached**"
    assert f"The target (test mDice > 0.75) is {reached}: demo scores" in report
    assert any(line.startswith("| demo | 2 | ") for line in lines)  # learning curves: 2 epochs

    figures = project / REPORTING / "figures"
    for name in ("error_examples_demo", "confusion_and_size_recall_demo"):
        assert f"(figures/{name}.png)" in report
        assert (figures / f"{name}.png").is_file()
    assert (figures / "report_learning_curves.png").is_file()
    assert (figures / "report_scores.png").is_file()
    # No study over seeds in this run: no figure of it and no such section.
    assert not (figures / "study_seeds.png").exists()
    assert "Study: hypotheses over seeds" not in report
