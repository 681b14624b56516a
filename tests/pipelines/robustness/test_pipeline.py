"""The robustness pipeline in the demo environment, with an external set of other sizes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from multiclass_segmentation.errors import BadInputError
from tests.conftest import dataset_versions, run_kedro, validated_demo_project

REPORTING = Path("data/08_reporting/demo")
DEMO_TEST = Path("data/01_raw/demo")


def external_set(project: Path, folder: Path, names: list[str]) -> Path:
    """Demo test pairs copied into img/ and labels/, the first also at double size."""
    for kind in ("img", "labels"):
        (folder / kind).mkdir(parents=True)
        for name in names:
            (source,) = (project / DEMO_TEST / kind / "test").glob(f"{name}.*")
            shutil.copy(source, folder / kind)
    for kind, resample in (("img", Image.BILINEAR), ("labels", Image.NEAREST)):
        (first,) = (folder / kind).glob(f"{names[0]}.*")
        with Image.open(first) as image:
            image.resize((image.width * 2, image.height * 2), resample).save(
                folder / kind / "double.png"
            )
    return folder


def failure(error: BaseException) -> BaseException:
    """The first UserError in an exception's chain (Kedro wraps a node's exception)."""
    while error is not None and not isinstance(error, BadInputError):
        error = error.__cause__ or error.__context__
    return error


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = validated_demo_project(tmp_path_factory.mktemp("robustness"))
    pets = external_set(project, project / "pets", ["test_0000", "test_0001"])
    params = {"evaluation": {"external_sets": {"pets": str(pets)}}}
    for pipeline in ("training", "evaluation", "robustness", "reporting"):
        run_kedro(project, env="demo", pipeline=pipeline, params=params)
    return project


@pytest.mark.slow
def test_robustness_json_scores_every_view_and_the_external_set(project: Path):
    (version,) = dataset_versions(project / REPORTING / "robustness.json")
    robustness = json.loads((version / "robustness.json").read_text())
    metrics_version = dataset_versions(project / REPORTING / "metrics.json")[-1]
    metrics = json.loads((metrics_version / "metrics.json").read_text())

    assert robustness["hypothesis"] == "demo"
    for split in ("val", "test"):
        summary = robustness["summary"][split]
        assert summary["clean_mdice"] == metrics[split]["mdice"]
        assert set(summary["family_mdice"]) == {"noise", "blur", "weather", "digital"}
        # 8 demo images a split: each family sees each image once, at one of 5 severities.
        families = robustness["views"][split]
        assert sum(v["images"] for n, v in families.items() if n.startswith("noise_")) == 8
        assert families["zoomout_50"]["images"] == 8
    assert robustness["external"]["pets"]["images"] == 3


@pytest.mark.slow
def test_results_json_the_report_and_the_figures_show_it(project: Path):
    results = json.loads((project / REPORTING / "results.json").read_text())
    report = (project / REPORTING / "report.md").read_text()

    assert results["hypotheses"]["demo"]["robustness"]["external"]["pets"]["images"] == 3
    assert "## 7. Robustness: scores outside the test split" in report
    assert "## 8. Sweeps" in report
    assert "| pets mDice |" in report
    for figure in ("robustness_curves_demo", "shift_examples_demo"):
        assert (project / REPORTING / "figures" / f"{figure}.png").is_file()
        assert f"(figures/{figure}.png)" in report


@pytest.mark.slow
def test_a_broken_external_set_stops_the_run_with_the_validations_message(project: Path):
    broken = external_set(project, project / "broken", ["test_0002"])
    (broken / "labels" / "double.png").unlink()
    versions = dataset_versions(project / REPORTING / "robustness.json")

    with pytest.raises(Exception) as raised:
        run_kedro(
            project,
            env="demo",
            pipeline="robustness",
            params={"evaluation": {"external_sets": {"broken": str(broken)}}},
        )

    error = failure(raised.value)
    assert error is not None, raised.value
    assert "evaluation.external_sets.broken: Data validation" in str(error)
    assert "image_without_mask: 1 file(s): img/double.png" in str(error)
    assert dataset_versions(project / REPORTING / "robustness.json") == versions
