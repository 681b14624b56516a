"""Shifted views: close-ups of a known object, zoom-outs, corruptions, the plan and the cache."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.robustness import CorruptionParams, RobustnessParams
from multiclass_segmentation.core.shift_views import (
    cached_views,
    closeup,
    corrupt,
    planned_views,
    zoomout,
)

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
NOISE = CorruptionParams(
    transform="GaussNoise", severities=[{"std_range": [s, s]} for s in (0.1, 0.2, 0.3)]
)


def square_object(size: int = 200, side: int = 20, top: int = 30, left: int = 120) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[top : top + side, left : left + side] = 2
    return mask


def test_a_closeup_of_a_square_object_fills_the_stated_share_of_the_frame():
    mask = square_object()
    # A smaller cat that must not be the one framed.
    mask[150:155, 10:15] = 1
    image = np.random.default_rng(0).integers(0, 256, (*mask.shape, 3), dtype=np.uint8)

    view, view_mask, coverage = closeup(image, mask, 0.25, 64, CLASSES)

    # 400 object pixels / 0.25 = a 40 x 40 crop around the 20 x 20 dog: exactly a quarter.
    assert coverage == pytest.approx(0.25)
    assert view.shape == (64, 64, 3) and view_mask.shape == (64, 64)
    assert (view_mask == 2).mean() == pytest.approx(0.25)
    assert not (view_mask == 1).any()


def test_a_closeup_moves_inside_the_image_and_takes_it_all_when_the_object_is_large():
    corner = square_object(side=20, top=0, left=0)
    _, corner_mask, coverage = closeup(np.zeros((200, 200, 3), np.uint8), corner, 0.25, 40, CLASSES)
    # The 40 x 40 window starts at the corner; the dog is its top-left quarter.
    assert coverage == pytest.approx(0.25)
    assert (corner_mask[:20, :20] == 2).all() and not (corner_mask[20:, 20:] == 2).any()

    big = square_object(size=100, side=80, top=10, left=10)
    _, _, coverage = closeup(np.zeros((100, 100, 3), np.uint8), big, 0.4, 100, CLASSES)
    assert coverage == pytest.approx(0.64)  # 6400 / 100^2: the whole image, the most there is


def test_an_image_without_an_object_has_no_closeup():
    empty = np.zeros((50, 50), np.uint8)
    assert closeup(np.zeros((50, 50, 3), np.uint8), empty, 0.4, 32, CLASSES) is None


def test_a_zoomout_shrinks_the_image_into_an_ignored_frame_of_its_mean_colour():
    mask = square_object(size=100, side=40, top=30, left=30)
    image = np.full((100, 100, 3), 10, np.uint8)
    image[mask == 2] = 210  # mean colour: 10 + 200 * 0.16 = 42

    view, view_mask = zoomout(image, mask, 0.5, 255)

    assert view.shape == image.shape and view_mask.shape == mask.shape
    assert (view_mask[:25] == 255).all() and (view_mask[:, 75:] == 255).all()
    assert (view[0, 0] == 42).all()
    # The 40 x 40 dog becomes 20 x 20 in the middle 50 x 50.
    assert (view_mask == 2).sum() == 400
    assert (view_mask[25:75, 25:75] != 255).all()


def test_severity_zero_is_the_clean_pair_and_a_seed_fixes_the_draws():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = rng.integers(0, 3, (32, 32), dtype=np.uint8)

    clean, clean_mask = corrupt(image, mask, NOISE, 0, seed=5)
    noisy, noisy_mask = corrupt(image, mask, NOISE, 3, seed=5)

    assert np.array_equal(clean, image) and np.array_equal(clean_mask, mask)
    assert np.array_equal(noisy_mask, mask)  # noise moves no pixel of the mask
    assert np.abs(noisy.astype(int) - image).mean() > 10
    assert np.array_equal(corrupt(image, mask, NOISE, 3, seed=5)[0], noisy)
    assert not np.array_equal(corrupt(image, mask, NOISE, 3, seed=6)[0], noisy)


def params(tmp_path, **changes) -> RobustnessParams:
    values = {
        "cache_dir": str(tmp_path / "views"),
        "view_size": 32,
        "scale": {"closeup_coverages": [0.5], "zoomout_factors": [0.5]},
        "corruptions": {"noise": {"gaussian": NOISE, "shot": NOISE}, "blur": {"motion": NOISE}},
    }
    return RobustnessParams.model_validate({**values, **changes})


def test_rotated_sampling_gives_every_severity_a_share_of_the_images(tmp_path):
    plans = [plan for position in range(12) for plan in planned_views(params(tmp_path), position)]

    by_view = Counter(plan.view for plan in plans)
    # 12 images: every scale view takes all, each family 12 in all, 4 per severity of 3.
    assert by_view["closeup_50"] == by_view["zoomout_50"] == 12
    assert {
        by_view[f"{family}_{level}"] for family in ("noise", "blur") for level in (1, 2, 3)
    } == {4}
    noise = Counter(plan.corruption for plan in plans if plan.family == "noise")
    assert noise == {"gaussian": 6, "shot": 6}


def test_full_sampling_gives_every_image_every_severity_of_every_corruption(tmp_path):
    plans = list(planned_views(params(tmp_path, sampling="full"), 0))
    cells = {(plan.view, plan.corruption) for plan in plans if plan.family != "scale"}
    assert len(cells) == 3 * 3  # (gaussian, shot, motion) x 3 severities


def write_split(root, names: list[str]) -> pd.DataFrame:
    (root / "img").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(exist_ok=True)
    rows = []
    for index, name in enumerate(names):
        image = np.full((40, 40, 3), 20 * index, np.uint8)
        Image.fromarray(image).save(root / "img" / f"{name}.png")
        Image.fromarray(square_object(size=40, side=10 + index, top=5, left=5)).save(
            root / "labels" / f"{name}.png"
        )
        rows.append(
            {
                "id": name,
                "image": f"img/{name}.png",
                "mask": f"labels/{name}.png",
                "image_sha256": str(index),
            }
        )
    return pd.DataFrame(rows)


def test_views_are_written_once_and_found_again(tmp_path):
    manifest = write_split(tmp_path / "data", ["a", "b", "c"])
    settings = params(tmp_path)

    views = cached_views({"test": manifest}, tmp_path / "data", settings, CLASSES)

    # Per image: 1 close-up, 1 zoom-out, 1 view per family (2 families).
    assert len(views) == 3 * 4
    assert set(views["split"]) == {"test"}
    for path in [*views["image"], *views["mask"]]:
        assert (tmp_path / "views" / path).is_file()
    first = tmp_path / "views" / views["image"].iloc[0]
    written = first.stat().st_mtime_ns

    again = cached_views({"test": manifest}, tmp_path / "data", settings, CLASSES)
    pd.testing.assert_frame_equal(again, views)
    assert first.stat().st_mtime_ns == written

    other = cached_views({"test": manifest}, tmp_path / "data", params(tmp_path, seed=1), CLASSES)
    assert other["image"].iloc[0].split("/")[0] != views["image"].iloc[0].split("/")[0]
    assert len(list((tmp_path / "views").iterdir())) == 2


def test_severity_tables_of_different_lengths_are_refused(tmp_path):
    short = CorruptionParams(transform="GaussNoise", severities=[{"std_range": [0.1, 0.1]}])
    with pytest.raises(ValueError, match="same number of severities"):
        params(tmp_path, corruptions={"noise": {"a": NOISE, "b": short}})
