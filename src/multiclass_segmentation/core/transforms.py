"""Albumentations pipelines built from parameters: training augmentations and the resize.

Masks hold class ids, so every geometric transform resizes or warps them with nearest-neighbour
interpolation and fills the area it uncovers with the ignore value (the loss and the metrics
skip those pixels instead of learning them as background).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Sequence

import albumentations as A
import cv2
from albumentations.pytorch import ToTensorV2
from pydantic import ValidationError

from multiclass_segmentation.config.model import TransformSpec


def build_augmentations(
    specs: Sequence[TransformSpec],
    ignore_index: int = 255,
    seed: int | None = None,
    parameter: str = "augmentations",
) -> A.Compose:
    """An ``A.Compose`` of the transforms ``specs`` name, in order.

    ``fill_mask`` defaults to ``ignore_index`` for transforms that would otherwise fill the mask
    with 0 (background); ``seed`` makes the random draws reproducible; ``parameter`` is the
    parameter path that error messages name.
    Raises ValueError for an unknown transform, an argument the transform does not take, an
    invalid value, or a mask interpolation other than nearest.
    """
    transforms = [
        _build_transform(spec, f"{parameter}[{position}] ({spec.name})", ignore_index)
        for position, spec in enumerate(specs)
    ]
    return A.Compose(transforms, seed=seed)


def build_resize(image_size: int) -> A.Compose:
    """Resize to image_size x image_size and convert to tensors, keeping uint8.

    The image becomes a uint8 (3, H, W) tensor, the mask (if given) a (H, W) tensor
    of its dtype, resized with nearest interpolation. Normalisation happens on the
    model's device (``data.normalize_images``), so batches travel as uint8.
    """
    return A.Compose(
        [
            A.Resize(
                image_size,
                image_size,
                interpolation=cv2.INTER_LINEAR,
                mask_interpolation=cv2.INTER_NEAREST,
            ),
            ToTensorV2(),
        ]
    )


def _build_transform(spec: TransformSpec, where: str, ignore_index: int) -> A.BasicTransform:
    transform_class = getattr(A, spec.name, None)
    if not (inspect.isclass(transform_class) and issubclass(transform_class, A.BasicTransform)):
        names = [
            name
            for name, value in vars(A).items()
            if inspect.isclass(value) and issubclass(value, A.BasicTransform)
        ]
        close = difflib.get_close_matches(spec.name, names, n=5)
        raise ValueError(
            f"{where}: '{spec.name}' is not an albumentations transform"
            + (f"; did you mean {close}?" if close else "; see albumentations' transform list")
        )
    signature = inspect.signature(transform_class.__init__)
    accepted = [name for name in signature.parameters if name not in {"self", "strict"}]
    unknown = sorted(set(spec.params) - set(accepted))
    if unknown:
        raise ValueError(
            f"{where}: {spec.name} takes no argument {unknown} (albumentations "
            f"{A.__version__}); its arguments are {accepted}"
        )
    params = dict(spec.params)
    if params.get("mask_interpolation", cv2.INTER_NEAREST) != cv2.INTER_NEAREST:
        raise ValueError(
            f"{where}: mask_interpolation must be nearest (0): masks hold class ids, which "
            "any other interpolation would blend into values of no class"
        )
    fill_mask = signature.parameters.get("fill_mask")
    if fill_mask is not None and fill_mask.default is not None:
        params.setdefault("fill_mask", ignore_index)
    try:
        return transform_class(**params, strict=True)
    except (ValidationError, ValueError, TypeError) as error:
        raise ValueError(f"{where}: invalid arguments {spec.params}: {error}") from error
