"""Parameters of the training pipeline: model, data, loss, optimiser, Lightning Trainer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, model_validator

from multiclass_segmentation.config.common import StrictModel
from multiclass_segmentation.config.model import ModelParams, TransformSpec


class LossTerm(StrictModel):
    name: Literal["cross_entropy", "dice", "focal"]
    weight: float = Field(1.0, gt=0)


class LossParams(StrictModel):
    """A weighted sum of smp/torch losses; every term honours the ignore value."""

    terms: list[LossTerm] = Field(default_factory=lambda: [LossTerm(name="cross_entropy")])
    # Per-class weights of the cross-entropy term: a list (one per class),
    # "auto" (the EDA's suggestion for the train split) or null (unweighted).
    class_weights: list[float] | Literal["auto"] | None = None
    focal_gamma: float = 2.0

    @model_validator(mode="after")
    def _terms_present(self) -> LossParams:
        if not self.terms:
            raise ValueError("training.loss.terms needs at least one loss")
        return self


class OptimizerParams(StrictModel):
    name: Literal["adam", "adamw", "sgd"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.9, ge=0)


class SchedulerParams(StrictModel):
    """Stepped every batch. ``onecycle`` peaks at ``optimizer.lr``."""

    name: Literal["cosine", "poly", "onecycle", "none"] = "none"
    poly_power: float = 0.9
    pct_start: float = Field(0.3, gt=0, lt=1)
    min_lr: float = Field(0.0, ge=0)


class TrainerParams(StrictModel):
    """Passed to ``lightning.Trainer``."""

    accelerator: Literal["auto", "cpu", "cuda", "gpu", "mps"] = "auto"
    devices: int | str | list[int] = "auto"
    strategy: str = "auto"
    # "auto" is 16-bit mixed precision on CUDA and 32-bit elsewhere.
    precision: str = "auto"
    gradient_clip_val: float | None = None
    deterministic: bool = False
    num_sanity_val_steps: int = 0
    limit_train_batches: int | float | None = None
    limit_val_batches: int | float | None = None
    # Optimizer steps between two reports of the training loss (ClearML's live curve).
    log_every_n_steps: int = Field(10, ge=1)


class CopyPasteParams(StrictModel):
    """Copy-paste (Ghiasi et al., CVPR 2021): another training image's largest animal
    pasted onto a sample at a size drawn anew, from far away to a close-up."""

    # Share of the training samples that get an animal pasted.
    p: float = Field(0.5, ge=0, le=1)
    # The pasted animal's longer side, as a share of the sample's shorter side: drawn
    # uniformly between the two bounds.
    size: tuple[float, float] = (0.2, 0.9)

    @model_validator(mode="after")
    def _ordered_size(self) -> CopyPasteParams:
        low, high = self.size
        if not 0 < low <= high <= 1:
            raise ValueError(f"size must hold 0 < low <= high <= 1, got {list(self.size)}")
        return self


class TrainingParams(StrictModel):
    model: ModelParams = Field(default_factory=ModelParams)
    image_size: int = Field(256, ge=32, multiple_of=32)
    batch_size: int = Field(8, ge=1)
    epochs: int = Field(25, ge=1)
    seed: int = 42
    augmentations: list[TransformSpec] = Field(default_factory=list)
    # Applied before the augmentations; null: no copy-paste.
    copy_paste: CopyPasteParams | None = None
    loss: LossParams = Field(default_factory=LossParams)
    optimizer: OptimizerParams = Field(default_factory=OptimizerParams)
    scheduler: SchedulerParams = Field(default_factory=SchedulerParams)
    trainer: TrainerParams = Field(default_factory=TrainerParams)
    # Epochs without a better validation mDice before stopping; null: never stop early.
    early_stopping_patience: int | None = Field(None, ge=1)
    # Continue the latest interrupted run of this hypothesis from its last checkpoint.
    resume: bool = False
    # Lightning checkpoints (best by validation mDice, and the last), one folder per run.
    checkpoint_dir: str
    # DataLoader worker processes that decode and augment: a number (0: in the training
    # process) or auto (the usable CPU cores).
    num_workers: NonNegativeInt | Literal["auto"] = 0
