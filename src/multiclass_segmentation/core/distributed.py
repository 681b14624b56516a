"""Training in processes that torchrun starts, on one machine or several.

``torchrun ... -m multiclass_segmentation --pipelines training`` starts the same
``kedro run`` in every process. This module holds the torch/Lightning side of
that (which process this is, the Trainer's arguments, a checksum of the final
weights); it never imports Kedro. The Kedro side (only global rank 0 saves
catalog outputs, only the training pipeline runs) is ``hooks.TorchrunHook``.
torch and Lightning are imported where used: the hooks read the environment
at every ``kedro`` command's start.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import lightning as L
    import torch

logger = logging.getLogger(__name__)

# torchrun sets TORCHELASTIC_RUN_ID in every process it starts; Lightning's
# TorchElasticEnvironment detects torchrun by it too.
TORCHRUN_MARKER = "TORCHELASTIC_RUN_ID"


@dataclass(frozen=True)
class TorchrunProcess:
    """One process of a torchrun launch, as its environment variables describe it."""

    rank: int
    local_rank: int
    world_size: int
    local_world_size: int
    node_rank: int

    @property
    def num_nodes(self) -> int:
        return self.world_size // self.local_world_size

    @property
    def is_global_zero(self) -> bool:
        return self.rank == 0


def torchrun_process(environ: Mapping[str, str] | None = None) -> TorchrunProcess | None:
    """This process's place in a torchrun launch, or None when torchrun did not start it."""
    environ = os.environ if environ is None else environ
    if TORCHRUN_MARKER not in environ:
        return None
    process = TorchrunProcess(
        rank=int(environ["RANK"]),
        local_rank=int(environ["LOCAL_RANK"]),
        world_size=int(environ["WORLD_SIZE"]),
        local_world_size=int(environ["LOCAL_WORLD_SIZE"]),
        node_rank=int(environ.get("GROUP_RANK", 0)),
    )
    if process.world_size % process.local_world_size:
        raise ValueError(
            f"torchrun started {process.world_size} processes, not a multiple of the "
            f"{process.local_world_size} on this machine: give every machine the same "
            "--nproc-per-node."
        )
    return process


def is_secondary_rank(environ: Mapping[str, str] | None = None) -> bool:
    """True in a torchrun process other than global rank 0: it trains but saves nothing."""
    process = torchrun_process(environ)
    return process is not None and not process.is_global_zero


def trainer_arguments(
    trainer_args: dict[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The configured Trainer arguments, set up for torchrun's processes when it started this one.

    Under torchrun every process is one DDP rank: ``strategy: auto`` becomes
    ``ddp`` (a ``ddp_*`` variant is kept), ``devices: auto`` becomes the
    processes on this machine and ``num_nodes`` the machines; Lightning's
    TorchElasticEnvironment checks both against torchrun's variables.
    """
    process = torchrun_process(environ)
    if process is None:
        return trainer_args
    args = dict(trainer_args)
    strategy = args.get("strategy", "auto")
    if isinstance(strategy, str):
        if "spawn" in strategy or "fork" in strategy:
            raise ValueError(
                f"training.trainer.strategy '{strategy}' starts its own processes, but torchrun "
                "started this one: use strategy auto (ddp) or a ddp_* variant under torchrun."
            )
        if strategy == "auto":
            args["strategy"] = "ddp"
    if args.get("devices", "auto") == "auto":
        args["devices"] = process.local_world_size
    args.setdefault("num_nodes", process.num_nodes)
    return args


def launched_by_torchrun(trainer: L.Trainer) -> bool:
    """True when torchrun created this Trainer's processes (the Kedro hook then guards saves)."""
    from lightning.fabric.plugins.environments import TorchElasticEnvironment

    environment = getattr(trainer.strategy, "cluster_environment", None)
    return (
        torchrun_process() is not None
        and isinstance(environment, TorchElasticEnvironment)
        and environment.creates_processes_externally
    )


def weights_checksum(module: torch.nn.Module) -> str:
    """A SHA-256 of every parameter and buffer, by name: equal on ranks with equal weights."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        value = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{value.dtype}{tuple(tensor.shape)}".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def log_final_weights(trainer: L.Trainer, module: torch.nn.Module) -> str:
    """Logs, on every rank, the global step and the checksum of the weights that fit ended with."""
    checksum = weights_checksum(module)
    logger.info(
        "Rank %d of %d: trained %d steps; final weights checksum %s",
        trainer.global_rank,
        trainer.world_size,
        trainer.global_step,
        checksum,
    )
    return checksum
