"""One training run of a segmentation model: Lightning Trainer, checkpoints, the best model.

The training pipeline's node and each trial of a sweep call :func:`fit_segmenter`.
Never imports kedro.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import albumentations as A
import lightning as L
import pandas as pd
import rich
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.strategies import StrategyRegistry
from torch.utils.data import DataLoader

from multiclass_segmentation.analysis.model_selection import best_epoch
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.checkpointing import (
    AtomicCheckpointIO,
    callback_state,
    remove_partial_checkpoints,
)
from multiclass_segmentation.core.copy_paste import ObjectDonors, paste_transform
from multiclass_segmentation.core.data import ManifestDataset, build_loader
from multiclass_segmentation.core.distributed import (
    is_secondary_rank,
    launched_by_torchrun,
    log_final_weights,
    trainer_arguments,
)
from multiclass_segmentation.core.models import build_model, check_model_params, normalization_for
from multiclass_segmentation.core.module import (
    EpochHistory,
    SegmentationModule,
    build_loss,
)
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.core.transforms import build_augmentations, build_resize
from multiclass_segmentation.errors import BadInputError, MissingInputError

logger = logging.getLogger(__name__)

LAST_CHECKPOINT = "last.ckpt"


def resolve_class_weights(
    training: TrainingParams, classes: ClassesParams, suggested: dict[str, Any]
) -> list[float] | None:
    """The cross-entropy class weights: the configured list, the EDA's suggestion, or none."""
    weights = training.loss.class_weights
    if weights == "auto":
        if suggested.get("class_names") != list(classes.names):
            raise BadInputError(
                "training.loss.class_weights is 'auto' but the EDA's suggested weights are for "
                f"classes {suggested.get('class_names')}, not {list(classes.names)}: rerun the "
                "eda pipeline for this dataset."
            )
        weights = suggested["weights"]
    if weights is not None and len(weights) != classes.num_classes:
        raise BadInputError(
            f"training.loss.class_weights has {len(weights)} values for "
            f"{classes.num_classes} classes {list(classes.names)}"
        )
    return None if weights is None else [float(w) for w in weights]


def _precision(training: TrainingParams) -> str:
    if training.trainer.precision != "auto":
        return training.trainer.precision
    on_cuda = torch.cuda.is_available() and training.trainer.accelerator in ("auto", "cuda", "gpu")
    return "16-mixed" if on_cuda else "32-true"


def _run_folder(checkpoint_dir: Path, resume: bool) -> tuple[Path, Path | None]:
    """This run's checkpoint folder and, when resuming, the checkpoint to continue from.

    Every run gets a new folder, so a new run never overwrites an earlier one's
    checkpoints; resuming continues the latest folder that has a last checkpoint.
    """
    if resume:
        runs = sorted(p.parent for p in checkpoint_dir.glob(f"*/{LAST_CHECKPOINT}"))
        if not runs:
            raise MissingInputError(
                f"training.resume is true but {checkpoint_dir} holds no run with a "
                f"{LAST_CHECKPOINT} to continue; run without training.resume=true."
            )
        return runs[-1], runs[-1] / LAST_CHECKPOINT
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H.%M.%S.%fZ")
    return checkpoint_dir / stamp, None


def _latest_checkpoint(run_folder: Path) -> ModelCheckpoint:
    """Writes ``last.ckpt`` at the end of every epoch, over the previous one.

    ``ModelCheckpoint(save_last=True)`` refreshes ``last.ckpt`` only when it saves
    a top-k checkpoint, that is when validation improves, so a resume would repeat
    every epoch since the best one. Without a monitor, ``save_top_k=1`` keeps the
    newest epoch only, and with no version counter its name stays ``last.ckpt``.
    """
    return ModelCheckpoint(
        dirpath=run_folder,
        filename=Path(LAST_CHECKPOINT).stem,
        monitor=None,
        save_top_k=1,
        every_n_epochs=1,
        enable_version_counter=False,
    )


def _check_resume_epochs(checkpoint_path: Path, training: TrainingParams) -> None:
    """A resume continues the interrupted run's plan; its schedule length is in the checkpoint."""
    # weights_only: a checkpoint holds tensors and plain values, so nothing is unpickled
    # that could run code; mmap reads the one integer without the weights.
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
    planned = checkpoint.get("planned_epochs")
    if planned is not None and planned != training.epochs:
        raise BadInputError(
            f"training.epochs is {training.epochs} but the run being resumed "
            f"({checkpoint_path.parent}) was planned for {planned} epochs, and its "
            f"learning-rate schedule with it: resume with training.epochs={planned}, or start "
            "a new run without training.resume."
        )


def _check_processes_start_here(trainer: L.Trainer, training: TrainingParams) -> None:
    """Refuses strategies whose extra processes rerun the whole `kedro run`.

    ``ddp`` started from a plain `kedro run` starts each extra process by
    re-running the command line: each would run every node and save its own
    outputs. ``ddp_spawn`` starts them inside this node instead, and under
    torchrun the TorchrunHook lets only global rank 0 save (hooks.py).
    """
    started_here = _starts_processes_itself(training.trainer.strategy)
    if trainer.world_size > 1 and not (started_here or launched_by_torchrun(trainer)):
        raise BadInputError(
            f"training.trainer.strategy '{training.trainer.strategy}' trains in "
            f"{trainer.world_size} processes that each rerun the whole `kedro run` and save "
            "their own outputs; set training.trainer.strategy to ddp_spawn, which starts "
            "them inside the training node, or launch the run with torchrun "
            "(see docs/distributed.md)."
        )


def _starts_processes_itself(strategy: str) -> bool:
    """Whether Lightning registers ``strategy`` with a start method that runs the extra
    processes inside this one (spawn, fork), not as new command lines (``popen``: ddp)."""
    if strategy not in StrategyRegistry:  # "auto" among them: ddp when several devices
        return False
    # Indexed, not .get(): the registry's get() builds the strategy.
    return StrategyRegistry[strategy]["init_params"].get("start_method", "popen") != "popen"


def check_buildable(training: TrainingParams, parameter: str = "training") -> None:
    """BadInputError unless smp and albumentations can build the model and augmentations.

    The schema checks shapes and ranges without importing torch; this checks the
    names and arguments against the libraries, cheaply (no model is built), so
    a misspelt architecture, encoder or transform argument stops a run before
    its first node (hooks.TrainingParametersHook) and a sweep before its first trial.
    """
    try:
        check_model_params(training.model)
        build_augmentations(training.augmentations, parameter=f"{parameter}.augmentations")
    except ValueError as error:
        raise BadInputError(f"{parameter}: {error}") from error


def build_loaders(
    train: pd.DataFrame,
    val: pd.DataFrame,
    dataset: DatasetParams,
    training: TrainingParams,
    classes: ClassesParams,
) -> tuple[DataLoader, DataLoader]:
    """Loaders over the manifests' files: augmented and shuffled for training, resized for val."""
    resize = build_resize(training.image_size)
    # Seeded, so a run in one process repeats; DataLoader workers reseed it (data.py).
    augmentations = build_augmentations(
        training.augmentations, ignore_index=classes.ignore_index, seed=training.seed
    )
    pasting = [paste_transform()] if training.copy_paste else []
    train_transform = A.Compose([*pasting, *augmentations.transforms, *resize.transforms])
    donors = None
    if training.copy_paste:
        donors = ObjectDonors(
            dataset.root,
            train["image"],
            train["mask"],
            classes.foreground_ids,
            training.copy_paste,
            seed=training.seed,
        )
    train_loader = build_loader(
        ManifestDataset(dataset.root, train["image"], train["mask"], train_transform, donors),
        batch_size=training.batch_size,
        num_workers=training.num_workers,
        shuffle=True,
        drop_last=len(train) > training.batch_size,
    )
    val_loader = build_loader(
        ManifestDataset(dataset.root, val["image"], val["mask"], resize),
        batch_size=training.batch_size,
        num_workers=training.num_workers,
    )
    return train_loader, val_loader


def _early_stopping(training: TrainingParams) -> list[L.Callback]:
    patience = training.early_stopping_patience
    return [EarlyStopping(monitor="val_mdice", mode="max", patience=patience)] if patience else []


def segmentation_module(
    model: torch.nn.Module,
    training: TrainingParams,
    classes: ClassesParams,
    class_weights: list[float] | None,
) -> SegmentationModule:
    """``model`` with the configured loss, optimiser, schedule and input normalisation."""
    mean, std = normalization_for(training.model)
    return SegmentationModule(
        model=model,
        loss=build_loss(training.loss, class_weights, classes.ignore_index),
        optimizer=training.optimizer,
        scheduler=training.scheduler,
        class_names=classes.names,
        ignore_index=classes.ignore_index,
        background_id=classes.background_id,
        mean=mean,
        std=std,
    )


def _hand_lightning_logs_to_the_application() -> None:
    """Removes the stderr handler that ``import lightning`` gives its package logger, so
    Lightning's INFO lines (seed, devices, tips) go where the application's logging
    config sends them (conf/logging.yml: the log file), like every other library's."""
    lightning_logger = logging.getLogger("lightning")
    for handler in list(lightning_logger.handlers):
        if type(handler) is logging.StreamHandler:
            lightning_logger.removeHandler(handler)


def _trainer(training: TrainingParams, run_folder: Path, callbacks: list[L.Callback]) -> L.Trainer:
    trainer_args = trainer_arguments(
        training.trainer.model_dump(exclude={"precision"}, exclude_none=True)
    )
    trainer = L.Trainer(
        max_epochs=training.epochs,
        precision=_precision(training),
        callbacks=callbacks,
        logger=False,
        default_root_dir=run_folder,
        enable_model_summary=False,
        # A bar on a terminal; in a log file EpochHistory's line per epoch instead of
        # a bar redrawn into thousands of characters.
        enable_progress_bar=rich.get_console().is_terminal,
        plugins=[AtomicCheckpointIO()],
        **trainer_args,
    )
    _check_processes_start_here(trainer, training)
    return trainer


def _prepare_resume(resume_from: Path, run_folder: Path, training: TrainingParams) -> None:
    _check_resume_epochs(resume_from, training)
    if not is_secondary_rank():  # under torchrun, one process tidies the shared folder
        for partial in remove_partial_checkpoints(run_folder):
            logger.info("Removed %s, a checkpoint write that a killed run left", partial)


def fit_segmenter(
    train: pd.DataFrame,
    val: pd.DataFrame,
    dataset: DatasetParams,
    class_weights: list[float] | None,
    training: TrainingParams,
    classes: ClassesParams,
    hypothesis: str,
    extra_callbacks: Sequence[L.Callback] = (),
) -> tuple[Segmenter, list[dict[str, Any]]]:
    """Trains the configured model; returns the best epoch's model and the epoch history.

    ``train`` and ``val`` are manifests of validated pairs; their files are decoded
    and augmented in DataLoader workers (``training.num_workers``). ``class_weights``
    are those of :func:`resolve_class_weights`; ``extra_callbacks`` join the
    Trainer's after the checkpoints and the history: the caller's tracking (e.g.
    ``clearml_tasks.tracking_callbacks``), a sweep's pruning callback.
    """
    _hand_lightning_logs_to_the_application()
    L.seed_everything(training.seed, workers=True)
    model = build_model(training.model, classes.num_classes, input_size=training.image_size)
    module = segmentation_module(model, training, classes, class_weights)
    train_loader, val_loader = build_loaders(train, val, dataset, training, classes)
    run_folder, resume_from = _run_folder(Path(training.checkpoint_dir), training.resume)
    if resume_from is not None:
        _prepare_resume(resume_from, run_folder, training)
    checkpoint = ModelCheckpoint(
        dirpath=run_folder,
        filename="best-epoch{epoch:02d}-mdice{val_mdice:.4f}",
        auto_insert_metric_name=False,
        monitor="val_mdice",
        mode="max",
    )
    history = EpochHistory()
    # extra_callbacks after EpochHistory: a tracking one reports the epoch it has just recorded.
    callbacks: list[L.Callback] = [checkpoint, _latest_checkpoint(run_folder), history]
    callbacks += [*_early_stopping(training), *extra_callbacks]
    trainer = _trainer(training, run_folder, callbacks)
    if trainer.is_global_zero:  # other torchrun ranks use rank 0's folder (ModelCheckpoint)
        logger.info("Checkpoints of this run go to %s", run_folder)
    trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from)
    log_final_weights(trainer, module)
    if not history.epochs:
        # ddp_spawn's processes fill copies of the callbacks; the last checkpoint holds theirs.
        history.load_state_dict(callback_state(run_folder / LAST_CHECKPOINT, history))

    # Only rank 0 wrote the checkpoints: on another machine the file may not exist.
    if checkpoint.best_model_path and trainer.is_global_zero:
        best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(best["state_dict"])
    segmenter = _segmenter(module, history.epochs, training, classes, hypothesis, run_folder)
    return segmenter, history.epochs


def _segmenter(
    module: SegmentationModule,
    history: list[dict[str, Any]],
    training: TrainingParams,
    classes: ClassesParams,
    hypothesis: str,
    run_folder: Path,
) -> Segmenter:
    """The best epoch's model on the CPU, with what it needs to predict and where it came from."""
    model = module.model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    mean, std = normalization_for(training.model)
    best = best_epoch(history)
    return Segmenter(
        model=model,
        class_names=list(classes.names),
        image_size=training.image_size,
        mean=mean,
        std=std,
        hypothesis=hypothesis,
        info={
            "best_epoch": best["epoch"] if best else None,
            "val_mdice": best["val_mdice"] if best else None,
            "epochs_run": len(history),
            "checkpoint_folder": str(run_folder),
            "parameters": training.model_dump(mode="json"),
        },
    )
