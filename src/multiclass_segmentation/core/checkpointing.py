"""Lightning checkpoints that a killed run never leaves half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.utilities.cloud_io import _is_local_file_protocol
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from multiclass_segmentation.io.atomic import write_atomically

# write_atomically stages a file in a hidden folder ".<name>.<random>" beside it.
PARTIAL_CHECKPOINT_PATTERN = ".*.ckpt.*"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a hidden temporary in its own folder, then renames it.

    Lightning's writer stages a checkpoint in the system's temporary folder and
    moves it over; on another disk that move is a copy in place, which a killed
    run leaves half-written, and a killed run leaves its stage behind. A rename
    within one folder is atomic, so ``last.ckpt`` is always a whole checkpoint,
    the previous one or the new one. Remote paths keep Lightning's writer.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None or not _is_local_file_protocol(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return

        def write(tmp_path: Path) -> None:
            with open(tmp_path, "wb") as file:
                torch.save(checkpoint, file)
                # On disk before the rename, so a power cut cannot leave an empty file.
                file.flush()
                os.fsync(file.fileno())

        write_atomically(Path(path), write)


def remove_partial_checkpoints(folder: Path) -> list[Path]:
    """Deletes the temporaries of checkpoint writes that a killed run left in ``folder``."""
    partial = sorted(p for p in folder.glob(PARTIAL_CHECKPOINT_PATTERN) if p.is_dir())
    for path in partial:
        shutil.rmtree(path)
    return partial


def callback_state(checkpoint_path: Path, callback: L.Callback) -> dict[str, Any]:
    """The state that ``callback`` stored in a Lightning checkpoint."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
    return checkpoint["callbacks"][callback.state_key]
