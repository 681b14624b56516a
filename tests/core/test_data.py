"""Lazy datasets over a manifest and their loaders: workers, uint8 batches, any image size."""

from __future__ import annotations

import os
from pathlib import Path

import albumentations as A
import numpy as np
import pytest
import torch

from multiclass_segmentation.core.data import (
    ManifestDataset,
    build_loader,
    collate_as_lists,
    resolve_num_workers,
)
from multiclass_segmentation.core.transforms import build_resize
from multiclass_segmentation.errors import MissingInputError
from tests.manifests import write_split


def _manifest(root: Path, sizes: list[tuple[int, int]]):
    ids = [f"p{i}" for i in range(len(sizes))]
    images = [np.full((h, w, 3), i, dtype=np.uint8) for i, (h, w) in enumerate(sizes)]
    masks = [np.full((h, w), i % 3, dtype=np.uint8) for i, (h, w) in enumerate(sizes)]
    return write_split(root, "train", ids, images, masks)


def test_workers_decode_and_resize_into_uint8_batches_in_manifest_order(tmp_path: Path):
    manifest = _manifest(tmp_path, [(20, 30)] * 6)
    dataset = ManifestDataset(tmp_path, manifest["image"], manifest["mask"], build_resize(16))
    loader = build_loader(dataset, batch_size=4, num_workers=2)

    batches = list(loader)

    assert loader.num_workers == 2 and loader.persistent_workers
    images = torch.cat([images for images, _ in batches])
    masks = torch.cat([masks for _, masks in batches])
    assert images.dtype == torch.uint8 and images.shape == (6, 3, 16, 16)
    # Each image was filled with its index, each mask with the index modulo 3.
    assert images.amax(dim=(1, 2, 3)).tolist() == [0, 1, 2, 3, 4, 5]
    assert masks.amax(dim=(1, 2)).tolist() == [0, 1, 2, 0, 1, 2]


def test_without_a_transform_items_are_arrays_of_any_size_collated_as_lists(tmp_path: Path):
    manifest = _manifest(tmp_path, [(20, 30), (11, 7)])
    dataset = ManifestDataset(tmp_path, manifest["image"], manifest["mask"])
    loader = build_loader(dataset, batch_size=2, num_workers=0, collate_fn=collate_as_lists)

    [(images, masks)] = list(loader)

    assert [image.shape for image in images] == [(20, 30, 3), (11, 7, 3)]
    assert [mask.shape for mask in masks] == [(20, 30), (11, 7)]


def test_a_manifest_naming_missing_files_is_refused_before_any_reading(tmp_path: Path):
    manifest = _manifest(tmp_path, [(8, 8)] * 2)
    (tmp_path / manifest["mask"][1]).unlink()
    with pytest.raises(MissingInputError, match="labels/train/p1.png"):
        ManifestDataset(tmp_path, manifest["image"], manifest["mask"])


def test_auto_workers_are_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert resolve_num_workers("auto") == len(os.sched_getaffinity(0))
    assert resolve_num_workers(3) == 3


def test_auto_workers_share_the_cores_among_torchrun_processes(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    torchrun = {"TORCHELASTIC_RUN_ID": "x", "RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0"}
    for name, value in torchrun.items():
        monkeypatch.setenv(name, value)
    for processes, workers in ((4, 4), (32, 1)):
        monkeypatch.setenv("LOCAL_WORLD_SIZE", str(processes))
        monkeypatch.setenv("WORLD_SIZE", str(2 * processes))
        assert resolve_num_workers("auto") == workers


def test_each_worker_draws_its_own_augmentations(tmp_path: Path):
    gradient = np.repeat(np.arange(0, 256, 16, dtype=np.uint8)[None, :, None], 16, axis=0)
    manifest = write_split(
        tmp_path, "train", ["g"], [np.repeat(gradient, 3, axis=2)], [gradient[..., 0]]
    )
    rotate = A.Compose([A.Affine(rotate=(-40, 40), p=1.0), *build_resize(16).transforms])
    # The same image everywhere, so only the augmentation tells the items apart.
    dataset = ManifestDataset(
        tmp_path, [manifest["image"][0]] * 8, [manifest["mask"][0]] * 8, rotate
    )
    torch.manual_seed(0)

    images = torch.cat([batch for batch, _ in build_loader(dataset, batch_size=2, num_workers=2)])

    # Worker 0 made items 0, 1, 4, 5 and worker 1 items 2, 3, 6, 7: no item repeats another.
    assert len({tuple(image.flatten().tolist()) for image in images}) == 8
