"""The Lightning pieces of training: losses, the module, epoch history."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from segmentation_models_pytorch.losses import DiceLoss, FocalLoss
from torch import nn

from multiclass_segmentation.config.training import (
    LossParams,
    OptimizerParams,
    SchedulerParams,
)
from multiclass_segmentation.core.data import normalize_images
from multiclass_segmentation.core.metrics import confusion_matrix, scores_from_confusion

logger = logging.getLogger(__name__)


class WeightedSumLoss(nn.Module):
    """sum_i weight_i * loss_i(logits, target)."""

    def __init__(self, losses: Sequence[nn.Module], weights: Sequence[float]) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)
        self.weights = list(weights)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(
            w * loss(logits, target) for w, loss in zip(self.weights, self.losses, strict=True)
        )


def build_loss(
    params: LossParams, class_weights: Sequence[float] | None, ignore_index: int
) -> WeightedSumLoss:
    """The configured weighted sum; cross-entropy is torch's (smp's has no class weights)."""
    weight = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
    builders = {
        "cross_entropy": lambda: nn.CrossEntropyLoss(weight=weight, ignore_index=ignore_index),
        "dice": lambda: DiceLoss(mode="multiclass", ignore_index=ignore_index),
        "focal": lambda: FocalLoss(
            mode="multiclass", ignore_index=ignore_index, gamma=params.focal_gamma
        ),
    }
    return WeightedSumLoss(
        [builders[term.name]() for term in params.terms], [t.weight for t in params.terms]
    )


def build_optimizer(params: OptimizerParams, model: nn.Module) -> torch.optim.Optimizer:
    if params.name == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=params.lr,
            momentum=params.momentum,
            weight_decay=params.weight_decay,
        )
    optimizer_class = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[params.name]
    return optimizer_class(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)


def build_scheduler(
    params: SchedulerParams, optimizer: torch.optim.Optimizer, total_steps: int, max_lr: float
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-batch learning-rate schedule over ``total_steps``."""
    if params.name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps, eta_min=params.min_lr
        )
    if params.name == "poly":
        return torch.optim.lr_scheduler.PolynomialLR(
            optimizer, total_iters=total_steps, power=params.poly_power
        )
    if params.name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=params.pct_start
        )
    return None


class SegmentationModule(L.LightningModule):
    """Trains an smp model; validates with the evaluation's metric code.

    Batches arrive as uint8 images and masks; they are normalised (``mean``,
    ``std``) once on the model's device.
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        loss: nn.Module,
        optimizer: OptimizerParams,
        scheduler: SchedulerParams,
        class_names: Sequence[str],
        ignore_index: int,
        background_id: int,
        mean: Sequence[float],
        std: Sequence[float],
    ) -> None:
        super().__init__()
        self.model = model
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.loss = loss
        self.optimizer_params = optimizer
        self.scheduler_params = scheduler
        self.class_names = list(class_names)
        self.ignore_index = ignore_index
        self.background_id = background_id
        self.register_buffer(
            "val_confusion",
            torch.zeros(len(class_names), len(class_names), dtype=torch.long),
            persistent=False,
        )
        self.last_val_scores: dict[str, Any] = {}

    def _to_memory_format(self, images: torch.Tensor) -> torch.Tensor:
        # channels_last speeds convolutions up on GPUs; on the CPU it does not here.
        if self.device.type == "cuda":
            return images.contiguous(memory_format=torch.channels_last)
        return images

    def on_fit_start(self) -> None:
        if self.device.type == "cuda":
            self.model.to(memory_format=torch.channels_last)

    def on_after_batch_transfer(
        self, batch: tuple[torch.Tensor, torch.Tensor], dataloader_idx: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images, masks = batch
        return normalize_images(images, self.mean, self.std), masks.long()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(self._to_memory_format(images))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        images, masks = batch
        loss = self.loss(self(images), masks)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"The training loss is {loss.item()} at epoch {self.current_epoch + 1}, "
                f"batch {batch_idx}; training stopped. Lower training.optimizer.lr, set "
                "training.trainer.gradient_clip_val, or check the masks for invalid values."
            )
        self.log(
            "loss",
            loss,
            prog_bar=True,
            on_step=True,
            on_epoch=True,
            batch_size=len(images),
            sync_dist=True,
        )
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # A resume must keep the planned epochs: the learning-rate schedule's length
        # comes back from the checkpoint.
        checkpoint["planned_epochs"] = self.trainer.max_epochs

    def on_validation_epoch_start(self) -> None:
        self.val_confusion.zero_()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, masks = batch
        predictions = self(images).argmax(dim=1)
        self.val_confusion += confusion_matrix(
            predictions, masks, len(self.class_names), self.ignore_index
        )

    def on_validation_epoch_end(self) -> None:
        confusion = self.trainer.strategy.reduce(self.val_confusion, reduce_op="sum")
        scores = scores_from_confusion(confusion, self.class_names, self.background_id)
        self.last_val_scores = scores
        self.log("val_mdice", _finite(scores["mdice"]), prog_bar=True, sync_dist=False)
        self.log("val_fg_mdice", _finite(scores["fg_mdice"]), sync_dist=False)
        for name, dice in scores["dice"].items():
            self.log(f"val_dice_{name}", _finite(dice), sync_dist=False)

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = build_optimizer(self.optimizer_params, self.model)
        scheduler = build_scheduler(
            self.scheduler_params,
            optimizer,
            # Counted by Lightning: epochs x batches per process, so DDP's shorter epochs count.
            max(1, int(self.trainer.estimated_stepping_batches)),
            self.optimizer_params.lr,
        )
        if scheduler is None:
            return {"optimizer": optimizer}
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def _finite(value: float | None) -> float:
    """Absent classes score NaN/None; Lightning logs a number."""
    return float("nan") if value is None else float(value)


class EpochHistory(L.Callback):
    """Per-epoch loss, learning rate, validation scores and seconds, and one log line
    per epoch (:func:`epoch_summary`) from the process that saves.

    Kept in the checkpoint (state_dict), so a resumed run's history has every epoch.
    """

    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []
        self._started = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: SegmentationModule) -> None:
        metrics = trainer.callback_metrics
        scores = pl_module.last_val_scores
        self.epochs.append(
            {
                "epoch": trainer.current_epoch + 1,
                "train_loss": float(metrics["loss_epoch"]),
                "lr": trainer.optimizers[0].param_groups[0]["lr"],
                "val_mdice": scores.get("mdice"),
                "val_fg_mdice": scores.get("fg_mdice"),
                "val_dice": scores.get("dice", {}),
                "seconds": round(time.perf_counter() - self._started, 2),
            }
        )
        if trainer.is_global_zero:
            logger.info(epoch_summary(self.epochs[-1], trainer.max_epochs))

    def state_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epochs = list(state_dict["epochs"])


def epoch_summary(epoch: dict[str, Any], max_epochs: int) -> str:
    """One line for an entry of :class:`EpochHistory`: the run's progress in a log file,
    where no progress bar is drawn."""
    line = f"Epoch {epoch['epoch']}/{max_epochs}: train loss {epoch['train_loss']:.4f}"
    if epoch["val_mdice"] is not None:
        line += f", val mDice {epoch['val_mdice']:.4f} (fg {epoch['val_fg_mdice']:.4f})"
    return f"{line}, {epoch['seconds']:.0f} s"
