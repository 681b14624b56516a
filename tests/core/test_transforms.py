"""Augmentations and preprocessing built from parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from multiclass_segmentation.config.model import TransformSpec
from multiclass_segmentation.core.data import normalize_images
from multiclass_segmentation.core.transforms import build_augmentations, build_resize

IGNORE = 255

HYPOTHESIS_2_AUGMENTATIONS = [
    {"name": "HorizontalFlip", "params": {"p": 0.5}},
    {"name": "VerticalFlip", "params": {"p": 0.3}},
    {"name": "Rotate", "params": {"limit": 45, "p": 0.5}},
    {"name": "RandomBrightnessContrast", "params": {"p": 0.3}},
    {"name": "GaussNoise", "params": {"std_range": [0.1, 0.2], "p": 0.2}},
]


def specs(*items: dict) -> list[TransformSpec]:
    return [TransformSpec(**item) for item in items]


def three_class_mask(size: int = 64) -> np.ndarray:
    """Background with a cat block (1) and a dog block (2)."""
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[8:40, 8:40] = 1
    mask[30:60, 36:60] = 2
    return mask


def test_hypothesis_2_augmentations_build():
    compose = build_augmentations(specs(*HYPOTHESIS_2_AUGMENTATIONS), ignore_index=IGNORE)

    assert [type(t).__name__ for t in compose.transforms] == [
        spec["name"] for spec in HYPOTHESIS_2_AUGMENTATIONS
    ]
    rotate, noise = compose.transforms[2], compose.transforms[4]
    assert rotate.limit == (-45, 45)
    assert rotate.fill_mask == IGNORE
    assert noise.std_range == (0.1, 0.2)
    assert noise.p == 0.2


def test_removed_argument_is_an_error_naming_it():
    with pytest.raises(ValueError, match="var_limit") as raised:
        build_augmentations(specs({"name": "GaussNoise", "params": {"var_limit": [10, 50]}}))

    assert "std_range" in str(raised.value)


def test_unknown_transform_suggests_close_names():
    with pytest.raises(ValueError, match="HorizontalFlp") as raised:
        build_augmentations(specs({"name": "HorizontalFlp"}))

    assert "HorizontalFlip" in str(raised.value)


def test_invalid_argument_value_is_a_value_error_naming_the_transform():
    with pytest.raises(ValueError, match=r"training\.augmentations\[0\] \(GaussNoise\)"):
        build_augmentations(
            specs({"name": "GaussNoise", "params": {"std_range": [0.5, 0.1]}}),
            parameter="training.augmentations",
        )


def test_blending_mask_interpolation_is_refused():
    with pytest.raises(ValueError, match="mask_interpolation"):
        build_augmentations(specs({"name": "Rotate", "params": {"mask_interpolation": 1}}))


def test_rotated_mask_holds_only_class_ids_and_ignore():
    mask = three_class_mask()
    image = np.repeat((mask * 100)[..., None], 3, axis=2)
    rotate = build_augmentations(
        specs({"name": "Rotate", "params": {"limit": [30, 30], "p": 1.0}}), ignore_index=IGNORE
    )

    rotated = rotate(image=image, mask=mask)

    assert set(np.unique(rotated["mask"])) == {0, 1, 2, IGNORE}
    assert rotated["mask"][0, 0] == IGNORE  # a corner uncovered by the rotation
    # The image, rotated with linear interpolation, does blend: the mask check is not vacuous.
    assert not set(np.unique(rotated["image"])) <= {0, 100, 200}


def test_fill_mask_set_by_the_user_or_absent_by_default_is_kept():
    compose = build_augmentations(
        specs(
            {"name": "Rotate", "params": {"fill_mask": 0}},
            {"name": "CoarseDropout"},
        ),
        ignore_index=IGNORE,
    )

    assert compose.transforms[0].fill_mask == 0
    # CoarseDropout leaves masks alone unless told to fill them.
    assert compose.transforms[1].fill_mask is None


def test_seed_makes_augmentations_repeatable():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = three_class_mask(32)
    outputs = [
        build_augmentations(specs(*HYPOTHESIS_2_AUGMENTATIONS), seed=7)(image=image, mask=mask)
        for _ in range(2)
    ]

    np.testing.assert_array_equal(outputs[0]["image"], outputs[1]["image"])
    np.testing.assert_array_equal(outputs[0]["mask"], outputs[1]["mask"])


def test_resize_keeps_uint8_and_resizes_masks_with_nearest_neighbours():
    image = np.empty((30, 40, 3), dtype=np.uint8)
    image[...] = (255, 0, 51)
    mask = np.zeros((30, 40), dtype=np.uint8)
    mask[:, 20:] = 2

    output = build_resize(64)(image=image, mask=mask)

    assert isinstance(output["image"], torch.Tensor)
    assert output["image"].shape == (3, 64, 64)
    assert output["image"].dtype == torch.uint8
    assert output["image"][:, 10, 10].tolist() == [255, 0, 51]
    assert output["mask"].shape == (64, 64)
    assert set(output["mask"].unique().tolist()) == {0, 2}


def test_resize_works_on_images_alone():
    output = build_resize(32)(image=np.full((20, 20, 3), 255, np.uint8))

    assert output["image"].shape == (3, 32, 32)
    assert torch.equal(output["image"], torch.full((3, 32, 32), 255, dtype=torch.uint8))


def test_normalize_images_follows_the_formula_on_uint8_batches():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    images = torch.empty(2, 3, 4, 4, dtype=torch.uint8)
    images[:, 0], images[:, 1], images[:, 2] = 255, 0, 51

    normalized = normalize_images(images, mean, std)

    assert normalized.dtype == torch.float32
    expected = [(1.0 - 0.485) / 0.229, (0.0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225]
    np.testing.assert_allclose(normalized[1, :, 3, 3].numpy(), expected, rtol=1e-5)
