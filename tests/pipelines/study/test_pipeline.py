"""`kedro run --pipelines study` on the demo: 2 hypotheses x 2 seeds, an ensemble, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multiclass_segmentation.cli import find_user_error
from multiclass_segmentation.core.segmenter import EnsembleSegmenter
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io.datasets import SegmentationModelDataset
from tests.conftest import dataset_versions, run_kedro, validated_demo_project

# Each test runs pipelines that train (minutes in all): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

# conf/demo/parameters_study.yml and conf/demo/globals.yml.
HYPOTHESES, SEEDS, ENSEMBLE = ("base", "demo_focal_dice"), (1, 2), "demo_ensemble"
RUNS = [f"{h}.seed_{s}" for h in HYPOTHESES for s in SEEDS]
MODELS = Path("data/06_models/demo")
REPORTING = Path("data/08_reporting/demo")


def _run_folder(run: str) -> Path:
    hypothesis, seed = run.split(".")
    return MODELS / "study" / hypothesis / seed


def _study(project: Path, **options) -> None:
    run_kedro(project, env="demo", pipeline="study", only_missing_outputs=True, **options)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        # Kedro builds the study's namespaces from KEDRO_ENV's conf (study_config.study_plan).
        patch.setenv("KEDRO_ENV", "demo")
        project = validated_demo_project(tmp_path_factory.mktemp("study"))
        # Interrupted after its first run: only base.seed_1 exists when the study starts.
        _study(project, namespaces=["base.seed_1"])
        first = project / _run_folder("base.seed_1") / "model.safetensors"
        project.joinpath("first_run_mtime").write_text(str(first.stat().st_mtime_ns))
        _study(project)
    return project


def test_the_study_trains_every_hypothesis_with_every_seed_on_its_own_parameters(project: Path):
    for run in RUNS:
        hypothesis, seed = run.split(".seed_")
        metrics = json.loads(
            (project / REPORTING / "study" / run.replace(".", "/"))
            .joinpath("metrics.json")
            .read_text()
        )
        parameters = metrics["model"]["parameters"]
        assert parameters["seed"] == int(seed)
        # The demo's tiny model, with the hypothesis's own loss on top.
        assert parameters["model"]["encoder_name"] == "resnet18"
        losses = [term["name"] for term in parameters["loss"]["terms"]]
        assert losses == (
            ["focal", "dice"] if hypothesis == "demo_focal_dice" else ["cross_entropy", "dice"]
        )
        assert len(metrics["test"]["per_image_dice"]) == 8


def test_an_interrupted_study_resumes_without_retraining_its_finished_runs(project: Path):
    first = project / _run_folder("base.seed_1") / "model.safetensors"
    assert str(first.stat().st_mtime_ns) == project.joinpath("first_run_mtime").read_text()
    for run in RUNS:
        assert (project / _run_folder(run) / "segmenter.json").is_file()


def test_the_ensemble_averages_every_run_and_labels_images_as_a_single_model(project: Path):
    (version,) = dataset_versions(project / MODELS / ENSEMBLE)
    ensemble = SegmentationModelDataset(filepath=str(version / ENSEMBLE)).load()
    assert isinstance(ensemble, EnsembleSegmenter)
    assert ensemble.info["members"] == RUNS
    assert ensemble.weights == [1.0] * 4

    images = project / "images_to_label"
    images.mkdir()
    source = next((project / "data/01_raw/demo/img/test").iterdir())
    (images / source.name).write_bytes(source.read_bytes())
    output = project / "labelled"
    run_kedro(
        project,
        env="demo",
        pipeline="inference",
        params={
            "inference": {
                "input_dir": str(images),
                "output_dir": str(output),
                "model_dir": str(project / MODELS / ENSEMBLE),
            }
        },
    )
    (report,) = output.glob("*/report.json")
    assert json.loads(report.read_text())["hypothesis"] == ENSEMBLE


def test_results_json_keeps_every_run_and_the_statistics(project: Path):
    study = json.loads((project / REPORTING / "results.json").read_text())["study"]
    assert sorted(study["runs"]) == sorted([*RUNS, ENSEMBLE])
    assert set(study["summary"]) == {*HYPOTHESES, ENSEMBLE}
    assert study["summary"]["base"]["test_mdice"]["n"] == 2
    # The mean of the two base runs' test mDice, as each run's metrics.json says.
    base = [
        json.loads((project / REPORTING / "study/base" / f"seed_{s}/metrics.json").read_text())
        for s in SEEDS
    ]
    mean = (base[0]["test"]["mdice"] + base[1]["test"]["mdice"]) / 2
    assert study["summary"]["base"]["test_mdice"]["mean"] == pytest.approx(mean)
    best = max(study["summary"], key=lambda n: study["summary"][n]["val_mdice"]["mean"])
    assert study["best"] == best
    assert {c["other"] for c in study["comparisons"]} == {*HYPOTHESES, ENSEMBLE} - {best}
    # Every run's shift benchmark: its own robustness.json, its figures, the comparisons.
    robustness = json.loads((project / REPORTING / "study/base/seed_1/robustness.json").read_text())
    assert study["runs"]["base.seed_1"]["test_mpc"] == robustness["summary"]["test"]["mpc"]
    assert study["summary"]["base"]["test_scale_mdice"]["n"] == 2
    metrics = {c["metric"] for c in study["comparisons"]}
    assert metrics == {"test_mdice", "test_fg_mdice", "test_scale_mdice", "test_mpc"}
    report = (project / REPORTING / "report.md").read_text()
    assert "test mPC mean [95% CI]" in report
    assert "Study: hypotheses over seeds" in report
    assert (project / REPORTING / "figures/study_seeds.png").is_file()


def test_a_study_run_with_other_parameters_than_its_pipeline_is_refused(project: Path):
    # Without KEDRO_ENV the pipeline is built from conf/base's study (base x 42, 43, 44).
    with pytest.raises(Exception) as raised:
        run_kedro(project, env="demo", pipeline="study")
    error = find_user_error(raised.value)
    assert isinstance(error, BadInputError)
    assert "KEDRO_ENV" in str(error)
