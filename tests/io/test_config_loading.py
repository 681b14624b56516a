"""An environment's parameters outside a run, merged and resolved as `kedro run` does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from multiclass_segmentation.io.config_loading import environment_parameters
from tests.conftest import copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project copy with an environment `trial` that sets only training.epochs."""
    project = copy_project(tmp_path)
    (project / "conf" / "trial").mkdir()
    (project / "conf" / "trial" / "parameters_training.yml").write_text("training: {epochs: 3}\n")
    return project


def _base(project: Path, name: str) -> dict:
    return yaml.safe_load((project / "conf" / "base" / name).read_text())


def test_an_environment_overrides_single_keys_of_base(project: Path):
    parameters = environment_parameters(project, "trial")

    base_training = _base(project, "parameters_training.yml")["training"]
    assert parameters["training"]["epochs"] == 3
    # The keys the environment does not set stay as conf/base has them (a soft merge).
    assert parameters["training"]["image_size"] == base_training["image_size"]
    assert parameters["training"]["model"] == base_training["model"]


def test_no_environment_is_conf_local(project: Path):
    (project / "conf" / "local" / "parameters_training.yml").write_text("training: {epochs: 5}\n")

    assert environment_parameters(project, None)["training"]["epochs"] == 5
    assert (
        environment_parameters(project, "base")["training"]["epochs"]
        == (_base(project, "parameters_training.yml")["training"]["epochs"])
    )


def test_globals_and_runtime_params_are_resolved(project: Path):
    globals_ = _base(project, "globals.yml")

    parameters = environment_parameters(project, "trial")
    moved = environment_parameters(project, "trial", runtime_params={"dataset": {"root": "/x"}})

    assert parameters["hypothesis"] == globals_["hypothesis"]
    assert parameters["dataset"]["root"] == globals_["dataset_root"]
    assert moved["dataset"]["root"] == "/x"


def test_an_environment_without_a_folder_is_an_error(project: Path):
    with pytest.raises(FileNotFoundError, match="there is no environment 'nope'"):
        environment_parameters(project, "nope")
