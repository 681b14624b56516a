"""Training nodes and parameters: class weights, run folders, errors before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
import segmentation_models_pytorch as smp
import torch
from pydantic import ValidationError

from multiclass_segmentation.cli import find_user_error
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.models import build_model
from multiclass_segmentation.core.training_run import (
    _run_folder,
    check_buildable,
    resolve_class_weights,
    segmentation_module,
)
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io.config_loading import environment_parameters
from tests.conftest import PROJECT_ROOT, copy_project, run_kedro

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
SUGGESTED = {"class_names": ["background", "cat", "dog"], "weights": [0.1, 1.3, 1.6]}


def _training(**overrides) -> TrainingParams:
    return TrainingParams.model_validate(
        {"checkpoint_dir": "unused", "model": {"encoder_weights": None}, **overrides}
    )


def test_class_weights_come_from_the_list_the_eda_or_nowhere():
    listed = _training(loss={"class_weights": [0.2, 1, 1]})
    assert resolve_class_weights(listed, CLASSES, SUGGESTED) == [0.2, 1.0, 1.0]
    auto = _training(loss={"class_weights": "auto"})
    assert resolve_class_weights(auto, CLASSES, SUGGESTED) == [0.1, 1.3, 1.6]
    assert resolve_class_weights(_training(), CLASSES, SUGGESTED) is None


def test_class_weights_of_the_wrong_length_or_another_label_set_are_refused():
    with pytest.raises(ValueError, match="has 2 values for 3 classes"):
        resolve_class_weights(_training(loss={"class_weights": [1, 1]}), CLASSES, SUGGESTED)
    other = {"class_names": ["background", "car"], "weights": [1, 1]}
    with pytest.raises(ValueError, match="rerun the eda pipeline"):
        resolve_class_weights(_training(loss={"class_weights": "auto"}), CLASSES, other)


def test_segmentation_module_trains_the_given_model_as_configured():
    model = torch.nn.Conv2d(3, 3, kernel_size=1)
    training = _training(
        model={"encoder_weights": None, "normalization": {"mean": [0.1] * 3, "std": [0.2] * 3}},
        loss={"terms": [{"name": "cross_entropy", "weight": 0.7}, {"name": "dice"}]},
        optimizer={"name": "sgd", "lr": 0.05},
    )

    module = segmentation_module(model, training, CLASSES, [0.5, 1.0, 2.0])

    assert module.model is model
    assert (module.mean, module.std) == ((0.1, 0.1, 0.1), (0.2, 0.2, 0.2))
    cross_entropy, _ = module.loss.losses
    assert module.loss.weights == [0.7, 1.0]
    assert cross_entropy.weight.tolist() == [0.5, 1.0, 2.0]
    assert cross_entropy.ignore_index == CLASSES.ignore_index == 255
    assert module.optimizer_params.name == "sgd"
    assert module.class_names == ["background", "cat", "dog"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"loss": {"terms": [{"name": "lovasz"}]}}, "lovasz"),
        ({"optimiser": {"name": "adam"}}, "optimiser"),
    ],
)
def test_bad_parameters_fail_with_the_parameter_named(overrides: dict, named: str):
    with pytest.raises(ValidationError, match=named):
        TrainingParams.model_validate({"checkpoint_dir": "unused", **overrides})


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"model": {"architecture": "UNetto"}}, "model.architecture 'UNetto'"),
        ({"model": {"encoder_name": "resnet35"}}, "resnet35"),
        (
            {"augmentations": [{"name": "GaussNoise", "params": {"var_limit": [10, 50]}}]},
            "var_limit",
        ),
        ({"augmentations": [{"name": "HorizontalFlap"}]}, "HorizontalFlip"),
    ],
)
def test_a_model_or_augmentation_the_libraries_cannot_build_is_named(overrides: dict, named: str):
    # The schema takes them (it never imports torch); the libraries refuse them.
    training = TrainingParams.model_validate({"checkpoint_dir": "unused", **overrides})
    with pytest.raises(BadInputError, match=named):
        check_buildable(training)


@pytest.mark.slow
def test_a_run_with_an_unbuildable_model_stops_before_its_first_node(tmp_path: Path):
    project = copy_project(tmp_path)
    with pytest.raises(Exception, match="resnet35") as error:
        run_kedro(
            project,
            env="demo",
            pipeline="training",
            params={"training": {"model": {"encoder_name": "resnet35"}}},
        )
    assert isinstance(find_user_error(error.value), BadInputError)
    # Not even the inputs were read: the demo's validated manifests do not exist here.
    assert "validated_train" not in str(error.value)


def test_every_run_gets_its_own_folder_and_resume_takes_the_latest(tmp_path: Path):
    first, resume_from = _run_folder(tmp_path, resume=False)
    assert resume_from is None
    second, _ = _run_folder(tmp_path, resume=False)
    assert first != second
    for folder in (first, second):
        folder.mkdir()
        (folder / "last.ckpt").write_bytes(b"")
    folder, resume_from = _run_folder(tmp_path, resume=True)
    assert folder == max(first, second)
    assert resume_from == folder / "last.ckpt"


def _training_params(env: str) -> TrainingParams:
    raw = environment_parameters(PROJECT_ROOT, env)["training"]
    # Built without weights: these tests are offline.
    raw["model"]["encoder_weights"] = None
    return TrainingParams.model_validate(raw)


@pytest.mark.parametrize(
    ("env", "architecture", "encoder_name", "first_augmentations"),
    [
        ("base", smp.FPN, "tu-tf_efficientnet_lite2", ["HorizontalFlip", "Affine"]),
        ("deeplabv3plus_r50", smp.DeepLabV3Plus, "resnet50", ["HorizontalFlip", "Rotate"]),
        ("unet_r34", smp.Unet, "resnet34", ["HorizontalFlip", "VerticalFlip"]),
    ],
)
def test_each_environment_builds_its_own_hypothesis(
    env, architecture, encoder_name, first_augmentations
):
    training = _training_params(env)
    assert training.model.encoder_name == encoder_name
    assert [t.name for t in training.augmentations[:2]] == first_augmentations
    assert training.checkpoint_dir.endswith(f"checkpoints/{env}")
    assert isinstance(build_model(training.model, 3), architecture)
