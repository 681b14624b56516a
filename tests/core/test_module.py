"""Losses honour the ignore value; a non-finite loss stops training with the epoch and batch;
one summary line per epoch."""

from __future__ import annotations

import pytest
import torch

from multiclass_segmentation.config.training import LossParams, OptimizerParams, SchedulerParams
from multiclass_segmentation.core.module import SegmentationModule, build_loss, epoch_summary


@pytest.mark.parametrize("term", ["cross_entropy", "dice", "focal"])
def test_every_loss_ignores_the_ignore_pixels(term: str):
    loss = build_loss(LossParams(terms=[{"name": term}]), [0.5, 1.0, 2.0], ignore_index=255)
    target = torch.randint(0, 3, (2, 8, 8))
    target[:, :4] = 255
    logits = torch.randn(2, 3, 8, 8)
    changed = logits.clone()
    changed[:, :, :4] = torch.randn(2, 3, 4, 8) * 10  # only ignore pixels differ
    assert torch.isclose(loss(logits, target), loss(changed, target))
    changed[:, 0, 6] += 5.0  # a labelled row scores otherwise: the loss must see it
    assert not torch.isclose(loss(logits, target), loss(changed, target))


def test_weighted_sum_adds_the_terms():
    target = torch.randint(0, 3, (2, 8, 8))
    logits = torch.randn(2, 3, 8, 8)
    ce = build_loss(LossParams(terms=[{"name": "cross_entropy"}]), None, 255)(logits, target)
    dice = build_loss(LossParams(terms=[{"name": "dice"}]), None, 255)(logits, target)
    both = build_loss(
        LossParams(terms=[{"name": "cross_entropy", "weight": 2}, {"name": "dice"}]), None, 255
    )
    assert torch.isclose(both(logits, target), 2 * ce + dice)


class _NanModel(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.full((images.shape[0], 3, *images.shape[2:]), float("nan"))


def _module(model: torch.nn.Module) -> SegmentationModule:
    return SegmentationModule(
        model=model,
        loss=build_loss(LossParams(), None, 255),
        optimizer=OptimizerParams(),
        scheduler=SchedulerParams(),
        class_names=["background", "cat", "dog"],
        ignore_index=255,
        background_id=0,
        mean=(0.5, 0.25, 0.0),
        std=(0.5, 0.25, 1.0),
    )


def test_uint8_batches_are_normalised_on_arrival_and_masks_become_class_indices():
    images = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    masks = torch.ones(2, 4, 4, dtype=torch.uint8)

    normalised, targets = _module(_NanModel()).on_after_batch_transfer((images, masks), 0)

    # (1 - mean) / std per channel: (1 - 0.5) / 0.5, (1 - 0.25) / 0.25, (1 - 0) / 1.
    assert normalised.dtype == torch.float32
    assert normalised[0, :, 0, 0].tolist() == pytest.approx([1.0, 3.0, 1.0])
    assert targets.dtype == torch.long and targets.unique().tolist() == [1]


def test_a_nan_loss_stops_training_naming_epoch_and_batch():
    module = _module(_NanModel())
    batch = (torch.zeros(2, 3, 8, 8), torch.zeros(2, 8, 8, dtype=torch.long))
    with pytest.raises(FloatingPointError, match="nan at epoch 1, batch 7"):
        module.training_step(batch, 7)


def test_epoch_summary_line():
    epoch = {"epoch": 3, "train_loss": 0.41234, "val_mdice": 0.8, "val_fg_mdice": 0.7125}
    epoch |= {"seconds": 61.6, "lr": 0.001, "val_dice": {}}

    assert epoch_summary(epoch, max_epochs=40) == (
        "Epoch 3/40: train loss 0.4123, val mDice 0.8000 (fg 0.7125), 62 s"
    )


def test_epoch_summary_of_an_epoch_without_validation():
    epoch = {"epoch": 1, "train_loss": 1.5, "val_mdice": None, "val_fg_mdice": None}

    assert epoch_summary(epoch | {"seconds": 9.2}, 2) == "Epoch 1/2: train loss 1.5000, 9 s"
