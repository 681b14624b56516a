from __future__ import annotations

from pathlib import Path

import albumentations as A
import numpy as np
import pytest
from pydantic import ValidationError

from multiclass_segmentation.config.training import CopyPasteParams
from multiclass_segmentation.core.copy_paste import (
    ObjectDonors,
    cut_largest_object,
    landing_box,
    paste_transform,
)
from multiclass_segmentation.core.data import ManifestDataset
from tests.manifests import write_split

CAT, DOG = 1, 2


def _two_images(root: Path) -> tuple[list[str], list[str]]:
    """A 64 x 64 photo with a 10 x 10 dog square, and an empty one; their manifest paths."""
    images = [np.full((64, 64, 3), 50, np.uint8), np.full((64, 64, 3), 200, np.uint8)]
    images[0][20:30, 5:15] = 255
    masks = [np.zeros((64, 64), np.uint8), np.zeros((64, 64), np.uint8)]
    masks[0][20:30, 5:15] = DOG
    manifest = write_split(root, "train", ["dog", "empty"], images, masks)
    return list(manifest["image"]), list(manifest["mask"])


def test_the_cut_is_the_bounding_box_of_the_largest_animal_of_any_class():
    mask = np.zeros((20, 20), np.uint8)
    mask[0:2, 0:2] = CAT  # 4 px
    mask[10:13, 5:8] = CAT  # 9 px, the largest
    mask[15:17, 15:18] = DOG  # 6 px
    image = np.arange(20 * 20 * 3, dtype=np.uint8).reshape(20, 20, 3)
    pixels, object_mask, class_id = cut_largest_object(image, mask, (CAT, DOG))
    assert class_id == CAT
    assert np.array_equal(pixels, image[10:13, 5:8])
    assert np.array_equal(object_mask, np.full((3, 3), 255))
    assert cut_largest_object(image, np.zeros_like(mask), (CAT, DOG)) is None


def test_the_landing_box_keeps_the_aspect_and_fits_the_frame():
    rng = np.random.default_rng(0)
    # Longer side 20 px -> half the frame's shorter side (100): 50 x 25, inside 100 x 200.
    top, left, height, width = landing_box((10, 20), (100, 200), 0.5, rng)
    assert (height, width) == (25, 50)
    assert 0 <= top <= 75 and 0 <= left <= 150
    # A long object shrinks to the frame's width rather than overflow it.
    assert landing_box((10, 100), (100, 100), 0.9, rng)[2:] == (9, 90)
    # Under four pixels a side nothing lands.
    assert landing_box((100, 100), (10, 10), 0.2, rng) is None


def test_a_donor_is_never_the_sample_itself_and_an_empty_donor_gives_nothing(tmp_path: Path):
    image_paths, mask_paths = _two_images(tmp_path)
    donors = ObjectDonors(
        tmp_path, image_paths, mask_paths, (CAT, DOG), CopyPasteParams(p=1.0), seed=0
    )
    for _ in range(5):
        (pasted,) = donors.overlays(1, (64, 64))  # the empty photo gets the dog
        assert pasted["mask_id"] == DOG
        assert donors.overlays(0, (64, 64)) == []  # the dog photo's only donor is empty
    never = ObjectDonors(tmp_path, image_paths, mask_paths, (CAT, DOG), CopyPasteParams(p=0), 0)
    assert never.overlays(1, (64, 64)) == []


def test_the_pasted_animal_is_labelled_with_its_class_at_the_drawn_size(tmp_path: Path):
    image_paths, mask_paths = _two_images(tmp_path)
    params = CopyPasteParams(p=1.0, size=(0.5, 0.5))
    donors = ObjectDonors(tmp_path, image_paths, mask_paths, (CAT, DOG), params, seed=3)
    transform = A.Compose([paste_transform()])
    dataset = ManifestDataset(tmp_path, image_paths, mask_paths, transform, donors)
    image, mask = dataset[1]
    # The 10 x 10 square's side becomes half of 64: a 32 x 32 dog, white as in its photo.
    assert (mask == DOG).sum() == 32 * 32
    assert (image[mask == DOG] == 255).all()
    assert (image[mask == 0] == 200).all()


def test_reseeding_the_dataset_repeats_the_donors_draws(tmp_path: Path):
    image_paths, mask_paths = _two_images(tmp_path)

    def draws(seed: int) -> list[list[float]]:
        donors = ObjectDonors(
            tmp_path, image_paths, mask_paths, (CAT, DOG), CopyPasteParams(p=1.0), 0
        )
        dataset = ManifestDataset(tmp_path, image_paths, mask_paths, A.Compose([]), donors)
        dataset.reseed(seed)
        return [donors.overlays(1, (64, 64))[0]["bbox"] for _ in range(4)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


@pytest.mark.parametrize("size", [(0.9, 0.2), (0.0, 0.5), (0.5, 1.5)])
def test_sizes_out_of_order_or_range_are_refused(size: tuple[float, float]):
    with pytest.raises(ValidationError, match="size"):
        CopyPasteParams(size=size)
