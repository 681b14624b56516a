"""Training and evaluation data read lazily from a split's manifest of validated pairs.

Files are decoded (and augmented) when an item is asked for, in DataLoader worker
processes, so memory does not grow with the dataset. Images stay uint8 until they
reach the model's device, where ``normalize_images`` turns them into floats: a
quarter of the bytes to copy, and the arithmetic runs on the GPU when there is one.
Never imports kedro.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import albumentations as A
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from multiclass_segmentation.core.distributed import torchrun_process
from multiclass_segmentation.io import imaging

if TYPE_CHECKING:
    from multiclass_segmentation.core.copy_paste import ObjectDonors

# Batches each worker prepares ahead on CUDA, where the GPU must never wait (torch's default: 2).
CUDA_PREFETCH_FACTOR = 4


class ManifestDataset(Dataset):
    """The pairs a manifest lists (paths relative to ``root``), decoded when asked for.

    With a ``transform`` (albumentations, ending in ``ToTensorV2``) an item is its
    image and mask tensors; without one, the RGB image and mask arrays as read.
    With ``donors`` the transform also gets their overlays for the item (copy-paste;
    the transform then starts with ``copy_paste.paste_transform``).
    """

    def __init__(
        self,
        root: str | Path,
        image_paths: Sequence[str],
        mask_paths: Sequence[str],
        transform: A.Compose | None = None,
        donors: ObjectDonors | None = None,
    ) -> None:
        if len(image_paths) != len(mask_paths):
            raise ValueError(f"{len(image_paths)} images but {len(mask_paths)} masks")
        imaging.check_files_exist(root, [*image_paths, *mask_paths])
        self.root = Path(root)
        self.image_paths = list(image_paths)
        self.mask_paths = list(mask_paths)
        self.transform = transform
        self.donors = donors

    def __len__(self) -> int:
        return len(self.image_paths)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, mask = imaging.read_pair(self.root, self.image_paths[index], self.mask_paths[index])
        if self.transform is None:
            return image, mask
        if self.donors is None:
            out = self.transform(image=image, mask=mask)
        else:
            overlays = self.donors.overlays(index, mask.shape)
            out = self.transform(image=image, mask=mask, overlay_metadata=overlays)
        return out["image"], out["mask"]

    def reseed(self, seed: int) -> None:
        """Reseeds the random draws of the transform and the donors (see seed_worker_transform)."""
        if self.transform is not None:
            self.transform.set_random_seed(seed)
        if self.donors is not None:
            self.donors.reseed(seed)


def collate_as_lists(batch: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list, list]:
    """Images and masks of any sizes, as two lists (the default collate stacks equal sizes)."""
    images, masks = zip(*batch, strict=True)
    return list(images), list(masks)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, e.g. a SLURM or container limit)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_num_workers(num_workers: int | Literal["auto"]) -> int:
    """``auto`` is this process's share of the usable cores; a number is taken as it is.

    torchrun starts ``LOCAL_WORLD_SIZE`` training processes on a machine, which
    share its cores.
    """
    if num_workers != "auto":
        return num_workers
    process = torchrun_process()
    return max(1, usable_cores() // (process.local_world_size if process else 1))


def seed_worker_transform(worker_id: int) -> None:
    """Gives this DataLoader worker's albumentations pipeline (and donors) a random stream.

    Albumentations draws from a generator of its own that torch does not reseed,
    so forked workers would repeat each other's augmentations (measured: two
    workers returned the same sequence). torch gives each worker the seed
    ``base_seed + worker_id``, with ``base_seed`` drawn from the seeded main process.
    """
    info = get_worker_info()
    reseed = getattr(info.dataset, "reseed", None)
    if reseed is not None:
        reseed(info.seed % 2**32)


def build_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    num_workers: int | Literal["auto"],
    shuffle: bool = False,
    drop_last: bool = False,
    collate_fn: Any = None,
) -> DataLoader:
    """A DataLoader whose workers stay alive between epochs and, on CUDA, pin and prefetch."""
    workers = resolve_num_workers(num_workers)
    on_cuda = torch.cuda.is_available()
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=on_cuda,
        prefetch_factor=CUDA_PREFETCH_FACTOR if workers > 0 and on_cuda else None,
        collate_fn=collate_fn,
        worker_init_fn=seed_worker_transform if workers > 0 else None,
    )


def normalize_images(
    images: torch.Tensor, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """uint8 (N, 3, H, W) images as float32 ``(pixel / 255 - mean) / std``, on their device."""
    shape = (1, -1, 1, 1)
    mean_255 = torch.tensor(mean, dtype=torch.float32, device=images.device).view(shape) * 255
    std_255 = torch.tensor(std, dtype=torch.float32, device=images.device).view(shape) * 255
    return (images.float() - mean_255) / std_255
