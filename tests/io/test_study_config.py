"""Each study run's parameters: the run's environment, the hypothesis's differences, --params."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiclass_segmentation.config.study import StudyParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.training_run import check_buildable
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.io.study_config import StudyConfigLoader, check_study_plan, study_plan
from tests.conftest import copy_project


def _loader(project: Path, runtime_params: dict | None = None) -> StudyConfigLoader:
    return StudyConfigLoader(
        conf_source=str(project / "conf"),
        env="demo",
        base_env="base",
        default_run_env="local",
        runtime_params=runtime_params,
        merge_strategy={"parameters": "soft", "globals": "soft"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = copy_project(tmp_path)
    (project / "conf/fast_lr").mkdir()
    (project / "conf/fast_lr/parameters_training.yml").write_text(
        "training:\n  optimizer: {lr: 0.5}\n  epochs: 9\n"
    )
    (project / "conf/demo/parameters_study.yml").write_text(
        "study:\n  hypotheses: [base, fast_lr]\n  seeds: [1, 2]\n"
        "  ensembles: [{name: both, members: [base, fast_lr.seed_2], weights: [1, 1, 2]}]\n"
    )
    return project


def test_a_run_gets_its_environment_then_its_hypothesis_then_the_command_line(project: Path):
    parameters = _loader(project, {"training": {"epochs": 1}})["parameters"]
    runs = parameters["study_runs"]
    fast = runs["fast_lr"]["seed_2"]["training"]
    # The demo's tiny model, the hypothesis's lr, --params' epochs over the hypothesis's 9.
    assert fast["model"]["encoder_name"] == "resnet18"
    assert fast["optimizer"] == {"name": "adamw", "lr": 0.5, "weight_decay": 1e-4}
    assert (fast["epochs"], fast["seed"]) == (1, 2)
    assert fast["checkpoint_dir"] == "data/06_models/demo/study/checkpoints/fast_lr/seed_2"
    # base: conf/base is no difference, so its runs are this run's parameters with their seed.
    base = runs["base"]["seed_1"]
    assert base["training"] == {
        **parameters["training"],
        "seed": 1,
        "checkpoint_dir": "data/06_models/demo/study/checkpoints/base/seed_1",
    }
    assert base["evaluation"] == parameters["evaluation"]
    assert runs["both"]["members"] == ["base.seed_1", "base.seed_2", "fast_lr.seed_2"]
    assert runs["both"]["weights"] == [1, 1, 2]


def test_a_hypothesis_without_an_environment_is_named_with_what_to_do(project: Path):
    (project / "conf/demo/parameters_study.yml").write_text(
        "study:\n  hypotheses: [base, lovasz]\n  seeds: [1]\n  ensembles: []\n"
    )
    with pytest.raises(MissingInputError, match="lists 'lovasz', but there is no environment"):
        _loader(project)["parameters"]


def test_a_run_whose_study_differs_from_the_pipeline_is_refused():
    planned = StudyParams(hypotheses=["base"], seeds=[1, 2])
    check_study_plan(planned, StudyParams(hypotheses=["base"], seeds=[1, 2]))
    with pytest.raises(BadInputError, match="KEDRO_ENV"):
        check_study_plan(planned, StudyParams(hypotheses=["base"], seeds=[1]))


def test_every_hypothesis_environment_builds_over_base(tmp_path: Path):
    project = copy_project(tmp_path)
    hypotheses = sorted(
        p.name
        for p in (project / "conf").iterdir()
        if p.is_dir() and p.name not in {"base", "local", "demo"}
    )
    assert {"focal", "focal_dice", "strong_aug", "adamw_wd", "scale_jitter", "photometric"} <= set(
        hypotheses
    )
    loader = StudyConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        runtime_params={"study": {"hypotheses": hypotheses, "seeds": [0], "ensembles": []}},
        merge_strategy={"parameters": "soft", "globals": "soft"},
    )
    runs = loader["parameters"]["study_runs"]
    for hypothesis in hypotheses:
        training = TrainingParams.model_validate(runs[hypothesis]["seed_0"]["training"])
        check_buildable(training, parameter=f"{hypothesis}: training")
    augmentations = runs["strong_aug"]["seed_0"]["training"]["augmentations"]
    assert [a["name"] for a in augmentations][-3:] == [
        "RandomBrightnessContrast",
        "GaussNoise",
        "CoarseDropout",
    ]


def test_reading_the_study_plan_leaves_the_runs_catalog_resolving_its_own_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    # Kedro registers each loader's `globals` resolver process-wide; the plan is read while
    # the run's catalog is built, so it must not bring conf/base's globals with it.
    monkeypatch.chdir(project)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    loader = _loader(project)
    assert loader["catalog"]["raw_images_{split}"]["path"] == "data/01_raw/demo/img/{split}"
    assert study_plan() is not None
    assert loader["catalog"]["raw_images_{split}"]["path"] == "data/01_raw/demo/img/{split}"
