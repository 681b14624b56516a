"""Speed benchmarks: the training pipeline against plain PyTorch, the data path, inference.

    .venv/bin/python benchmarks/run.py                 # the base hypothesis, conf/base
    .venv/bin/python benchmarks/run.py --env unet_r34  # another hypothesis environment
    .venv/bin/python benchmarks/run.py --quick         # a tiny smoke configuration
    .venv/bin/python benchmarks/run.py --scale 600     # memory and time per stage at N, 4N images

Training and inference each run in a subprocess of their own, so each reports
its own peak resident memory. The GPU section runs where CUDA is available.
Results go to benchmarks/results/<UTC time>.json (or --output); docs/benchmarks.md
explains each field. The scale section (--scale, --scale-sizes)
lives in benchmarks/scale.py, which has options of its own.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
INFERENCE_BATCH_SIZES = (1, 16)
# The GPU section's model: DeepLabV3+ on ResNet-50 at 256 px, in mixed precision.
GPU_MODEL = {"architecture": "DeepLabV3Plus", "encoder_name": "resnet50", "encoder_weights": None}
GPU_IMAGE_SIZE = 256
SCALE_FLAGS = ("--scale", "--scale-sizes")


@dataclass
class Settings:
    """What one benchmark run measures; sent to the section subprocesses as JSON."""

    env: str
    training: dict[str, Any]
    classes: dict[str, Any]
    image_size: int
    batch_size: int
    steps: int
    warmup: int
    inference_steps: int
    num_workers: int | str
    distinct_images: int
    compile_backend: str
    gpu_batch_size: int
    dataset_root: str | None
    quick: bool


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(arg.split("=")[0] in SCALE_FLAGS for arg in argv):
        # The scale section is a benchmark of its own, with its own options.
        from scale import main as scale_main  # benchmarks/scale.py, next to this script

        return scale_main(argv)
    args = _parser().parse_args(argv)
    if args.section:
        settings = Settings(**json.loads(Path(args.settings).read_text()))
        result = SECTIONS[args.section](settings)
        result["peak_rss_mb"] = _peak_rss_mb()
        Path(args.result).write_text(json.dumps(result, indent=2))
        return 0

    settings = _settings(args)
    output = args.output or RESULTS_DIR / f"{datetime.now(timezone.utc):%Y-%m-%dT%H.%M.%SZ}.json"
    report: dict[str, Any] = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": _describe(settings),
        "training": _run_section("training", settings),
        "inference": _run_section("inference", settings),
        "statistics": _run_section("statistics", settings),
    }
    import torch

    report["gpu"] = (
        _run_section("gpu", settings) if torch.cuda.is_available() else {"available": False}
    )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(_summary(report))
    print(f"Wrote {output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env",
        default="base",
        help="configuration environment whose training parameters define the model (default base)",
    )
    parser.add_argument("--steps", type=_positive, help="timed training steps (default 20)")
    parser.add_argument("--warmup", type=_positive, help="untimed steps before them (default 3)")
    parser.add_argument("--image-size", type=_positive, help="default: training.image_size")
    parser.add_argument("--batch-size", type=_positive, help="default: training.batch_size")
    parser.add_argument(
        "--inference-steps", type=_positive, help="timed batches a variant (default 20)"
    )
    parser.add_argument(
        "--num-workers", type=_workers, help="a number or auto (default: training.num_workers)"
    )
    parser.add_argument(
        "--compile-backend", help="torch.compile backend (default inductor; eager with --quick)"
    )
    parser.add_argument("--gpu-batch-size", type=_positive, default=16)
    parser.add_argument(
        "--dataset-root",
        help="time decoding on img/train/*.jpg and labels/train/*.png here instead of "
        "synthetic images",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: the demo's tiny model, 64 px, 2 steps",
    )
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/results/)")
    # Listed for --help only: main() hands these to benchmarks/scale.py.
    parser.add_argument(
        "--scale",
        metavar="N",
        help="instead: time and peak memory of each pipeline stage at N and 4N synthetic "
        "512 px images (see benchmarks/scale.py --help for its options)",
    )
    parser.add_argument(
        "--scale-sizes", metavar="N[,M...]", help="the same at these sizes, e.g. 10000"
    )
    parser.add_argument("--section", choices=sorted(SECTIONS), help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser


def _workers(value: str) -> int | str:
    return value if value == "auto" else int(value)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _settings(args: argparse.Namespace) -> Settings:
    from multiclass_segmentation.io.config_loading import environment_parameters

    parameters = environment_parameters(PROJECT_ROOT, "demo" if args.quick else args.env)
    training = parameters["training"]
    # Random initial weights: the speed does not depend on them, and nothing is downloaded.
    training["model"]["encoder_weights"] = None
    quick = {"steps": 2, "warmup": 1, "image_size": 64, "batch_size": 2, "inference_steps": 2}

    def pick(name: str, default: Any) -> Any:
        given = getattr(args, name)
        if given is not None:
            return given
        return quick[name] if args.quick and name in quick else default

    return Settings(
        env="demo" if args.quick else args.env,
        training=training,
        classes=parameters["classes"],
        image_size=pick("image_size", training.get("image_size", 256)),
        batch_size=pick("batch_size", training.get("batch_size", 8)),
        steps=pick("steps", 20),
        warmup=pick("warmup", 3),
        inference_steps=pick("inference_steps", 20),
        num_workers=pick("num_workers", training.get("num_workers", 0)),
        distinct_images=4 if args.quick else 32,
        compile_backend=args.compile_backend or ("eager" if args.quick else "inductor"),
        gpu_batch_size=2 if args.quick else args.gpu_batch_size,
        dataset_root=args.dataset_root,
        quick=args.quick,
    )


def _describe(settings: Settings) -> dict[str, Any]:
    import lightning
    import torch

    described = asdict(settings)
    described.update(
        model=settings.training["model"],
        torch=torch.__version__,
        lightning=lightning.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        cpu_threads=torch.get_num_threads(),
    )
    del described["training"], described["classes"]
    return described


def _run_section(name: str, settings: Settings) -> dict[str, Any]:
    """Runs one section in a fresh Python process, so its peak memory is its own."""
    with tempfile.TemporaryDirectory() as tmp:
        settings_file, result_file = Path(tmp) / "settings.json", Path(tmp) / "result.json"
        settings_file.write_text(json.dumps(asdict(settings)))
        print(f"Benchmarking {name} ...", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--section", name]
            + ["--settings", str(settings_file), "--result", str(result_file)],
            check=True,
        )
        return json.loads(result_file.read_text())


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(peak / (1024**2 if sys.platform == "darwin" else 1024), 1)


# --- data ---------------------------------------------------------------------------------


@dataclass
class SampleFiles:
    """Image and mask files under ``root`` (paths relative to it), as a manifest lists them."""

    root: Path
    images: list[str]
    masks: list[str]


def _sample_files(settings: Settings, folder: Path) -> SampleFiles:
    """The dataset's train files, or synthetic ones of the same kind written under ``folder``."""
    root = Path(settings.dataset_root) if settings.dataset_root else folder / "synthetic"
    if not settings.dataset_root:
        from multiclass_segmentation.commands.synthetic import (
            SyntheticDatasetParams,
            write_synthetic_dataset,
        )
        from multiclass_segmentation.config.common import ClassesParams

        write_synthetic_dataset(
            root,
            SyntheticDatasetParams(
                counts={"train": settings.distinct_images}, image_size=max(64, settings.image_size)
            ),
            ClassesParams.model_validate(settings.classes),
        )
    images = sorted((root / "img" / "train").glob("*.jpg"))[: settings.distinct_images]
    if not images:
        raise FileNotFoundError(f"--dataset-root {root} has no img/train/*.jpg")
    return SampleFiles(
        root,
        [str(image.relative_to(root)) for image in images],
        [f"labels/train/{image.stem}.png" for image in images],
    )


def _decode_images_per_s(files: SampleFiles, count: int) -> float:
    """Pairs read and decoded a second by the pipelines' reader, in this process alone."""
    from multiclass_segmentation.io.imaging import read_pair

    started = time.perf_counter()
    for index in range(count):
        read_pair(
            files.root,
            files.images[index % len(files.images)],
            files.masks[index % len(files.masks)],
        )
    return count / (time.perf_counter() - started)


def _train_loader(
    files: SampleFiles, settings: Settings, training: Any, classes: Any, images: int
) -> Any:
    """train_model's training DataLoader (files decoded and augmented in its workers)."""
    import pandas as pd

    from multiclass_segmentation.config.common import DatasetParams
    from multiclass_segmentation.core.training_run import build_loaders

    count = len(files.images)
    manifest = pd.DataFrame(
        {
            "image": [files.images[i % count] for i in range(images)],
            "mask": [files.masks[i % count] for i in range(images)],
        }
    )
    training = training.model_copy(update={"num_workers": settings.num_workers})
    dataset = DatasetParams(root=str(files.root))
    train_loader, _ = build_loaders(manifest, manifest.head(1), dataset, training, classes)
    return train_loader


def _loader_images_per_s(loader: Any) -> float:
    """The whole data path, decode, augmentation and collation in the loader's workers."""
    batches = iter(loader)
    next(batches)  # worker start-up is not the data path's speed
    started, images = time.perf_counter(), 0
    for images_batch, _ in batches:
        images += len(images_batch)
    return images / (time.perf_counter() - started)


# --- training -----------------------------------------------------------------------------


def _training_params(settings: Settings, **overrides: Any) -> tuple[Any, Any]:
    from multiclass_segmentation.config.common import ClassesParams
    from multiclass_segmentation.config.training import TrainingParams

    raw = {
        **settings.training,
        "image_size": settings.image_size,
        "batch_size": settings.batch_size,
        **overrides,
    }
    return TrainingParams.model_validate(raw), ClassesParams.model_validate(settings.classes)


def _class_weights(training: Any, classes: Any) -> list[float] | None:
    from multiclass_segmentation.core.training_run import resolve_class_weights

    # For "auto", uniform weights stand in for the EDA's: any list costs the same.
    uniform = {"class_names": list(classes.names), "weights": [1.0] * classes.num_classes}
    return resolve_class_weights(training, classes, uniform)


def _loss(training: Any, classes: Any) -> Any:
    from multiclass_segmentation.core.module import build_loss

    return build_loss(training.loss, _class_weights(training, classes), classes.ignore_index)


def _synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _lightning_images_per_s(
    model: Any, loader: Any, training: Any, classes: Any, settings: Settings, device: str
) -> float:
    """The pipeline's training step: SegmentationModule, its DataLoader, a Lightning Trainer."""
    import lightning as L

    from multiclass_segmentation.core.training_run import segmentation_module

    total = settings.warmup + settings.steps

    class StepTimer(L.Callback):
        """Seconds of the steps after the warm-up ones, data loading included."""

        def __init__(self) -> None:
            self.started = self.seconds = 0.0

        def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
            if trainer.global_step == settings.warmup:
                _synchronize(device)
                self.started = time.perf_counter()
            elif trainer.global_step == total:
                _synchronize(device)
                self.seconds = time.perf_counter() - self.started

    module = segmentation_module(model, training, classes, _class_weights(training, classes))
    timer = StepTimer()
    trainer = L.Trainer(
        accelerator=device,
        devices=1,
        precision="16-mixed" if device == "cuda" else "32-true",
        gradient_clip_val=training.trainer.gradient_clip_val,
        max_steps=total,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, loader)
    return settings.steps * training.batch_size / timer.seconds


def _plain_images_per_s(
    model: Any, batches: list[tuple[Any, Any]], training: Any, classes: Any, settings: Settings
) -> float:
    """The same model, loss, optimiser, schedule and clipping in a bare loop over tensors."""
    import torch

    from multiclass_segmentation.core.module import build_optimizer, build_scheduler

    device = batches[0][0].device.type
    total = settings.warmup + settings.steps
    model.train()
    if device == "cuda":
        model.to(memory_format=torch.channels_last)
    loss_fn = _loss(training, classes).to(device)
    optimizer = build_optimizer(training.optimizer, model)
    scheduler = build_scheduler(training.scheduler, optimizer, total, training.optimizer.lr)
    scaler = torch.amp.GradScaler(device, enabled=device == "cuda")
    clip = training.trainer.gradient_clip_val
    started = 0.0
    for step in range(total):
        if step == settings.warmup:
            _synchronize(device)
            started = time.perf_counter()
        images, masks = batches[step % len(batches)]
        with torch.autocast(device, dtype=torch.float16, enabled=device == "cuda"):
            loss = loss_fn(model(images), masks)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if clip:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
    _synchronize(device)
    return settings.steps * training.batch_size / (time.perf_counter() - started)


def _prebatched(
    files: SampleFiles, training: Any, count: int, device: str
) -> list[tuple[Any, Any]]:
    """``count`` batches of resized, normalised (not augmented) images, already on ``device``."""
    import torch

    from multiclass_segmentation.core.data import normalize_images
    from multiclass_segmentation.core.models import normalization_for
    from multiclass_segmentation.core.transforms import build_resize
    from multiclass_segmentation.io.imaging import read_pair

    resize = build_resize(training.image_size)
    memory_format = torch.channels_last if device == "cuda" else torch.contiguous_format
    batches = []
    for start in range(0, count * training.batch_size, training.batch_size):
        items = [
            resize(image=image, mask=mask)
            for i in range(start, start + training.batch_size)
            for image, mask in [
                read_pair(
                    files.root,
                    files.images[i % len(files.images)],
                    files.masks[i % len(files.masks)],
                )
            ]
        ]
        images = normalize_images(
            torch.stack([item["image"] for item in items]), *normalization_for(training.model)
        )
        masks = torch.stack([item["mask"].long() for item in items])
        batches.append((images.to(device, memory_format=memory_format), masks.to(device)))
    return batches


def _compare_training(
    settings: Settings, training: Any, classes: Any, device: str
) -> dict[str, Any]:
    """Lightning pipeline vs plain loop in this process; the plain loop runs before and after."""
    with tempfile.TemporaryDirectory() as tmp:
        files = _sample_files(settings, Path(tmp))
        return _compare_on_files(files, settings, training, classes, device)


def _compare_on_files(
    files: SampleFiles, settings: Settings, training: Any, classes: Any, device: str
) -> dict[str, Any]:
    import torch

    from multiclass_segmentation.core.models import build_model

    steps = settings.warmup + settings.steps
    loader = _train_loader(files, settings, training, classes, steps * training.batch_size)
    batches = _prebatched(files, training, min(steps, 8), device)
    initial = build_model(training.model, classes.num_classes)
    torch.manual_seed(0)
    plain_before = _plain_images_per_s(
        copy.deepcopy(initial).to(device), batches, training, classes, settings
    )
    torch.manual_seed(0)
    lightning_ips = _lightning_images_per_s(
        copy.deepcopy(initial), loader, training, classes, settings, device
    )
    torch.manual_seed(0)
    plain_after = _plain_images_per_s(
        copy.deepcopy(initial).to(device), batches, training, classes, settings
    )
    data_ips = _loader_images_per_s(loader)
    decode_ips = _decode_images_per_s(files, 4 * settings.distinct_images)
    return training_comparison(
        lightning_ips, (plain_before, plain_after), data_ips, decode_ips, loader.num_workers
    )


def training_comparison(
    lightning_ips: float,
    plain_runs_ips: tuple[float, float],
    loader_ips: float,
    decode_ips: float,
    num_workers: int,
) -> dict[str, Any]:
    """The training section's fields from its measured speeds (images a second)."""
    plain_ips = sum(plain_runs_ips) / len(plain_runs_ips)
    return {
        "lightning_pipeline_images_per_s": round(lightning_ips, 3),
        "plain_pytorch_images_per_s": round(plain_ips, 3),
        "plain_pytorch_runs_images_per_s": [round(run, 3) for run in plain_runs_ips],
        "lightning_to_plain_ratio": round(lightning_ips / plain_ips, 4),
        "data_path": {
            "num_workers": num_workers,
            "decode_images_per_s": round(decode_ips, 1),
            # Read, decode, augment and collate, in the loader's workers: what training gets.
            "loader_images_per_s": round(loader_ips, 1),
            "bottleneck": "data" if loader_ips < plain_ips else "model",
        },
    }


def training_section(settings: Settings) -> dict[str, Any]:
    training, classes = _training_params(settings)
    return {"device": "cpu", **_compare_training(settings, training, classes, "cpu")}


def gpu_section(settings: Settings) -> dict[str, Any]:
    """Mixed precision and channels_last training of DeepLabV3+/ResNet-50 on the CUDA card."""
    import torch

    training, classes = _training_params(
        settings,
        model=GPU_MODEL,
        image_size=64 if settings.quick else GPU_IMAGE_SIZE,
        batch_size=settings.gpu_batch_size,
    )
    torch.backends.cudnn.benchmark = True
    result = _compare_training(settings, training, classes, "cuda")
    return {
        "available": True,
        "device": torch.cuda.get_device_name(),
        "model": GPU_MODEL,
        "image_size": training.image_size,
        "batch_size": training.batch_size,
        "precision": "16-mixed, channels_last",
        **result,
        "peak_gpu_memory_mb": round(torch.cuda.max_memory_allocated() / 1024**2, 1),
    }


# --- inference ----------------------------------------------------------------------------


def _variants(model: Any, backend: str) -> dict[str, tuple[Any, Any, Callable[[], Any]]]:
    """name -> (model, memory format of the input, context manager factory)."""
    import torch

    channels_last = copy.deepcopy(model).to(memory_format=torch.channels_last)
    return {
        "no_grad": (model, torch.contiguous_format, torch.no_grad),
        "inference_mode": (model, torch.contiguous_format, torch.inference_mode),
        "channels_last": (channels_last, torch.channels_last, torch.inference_mode),
        "compile": (
            torch.compile(model, backend=backend),
            torch.contiguous_format,
            torch.inference_mode,
        ),
    }


def _time_batches(
    model: Any, images: Any, context: Callable[[], AbstractContextManager], warmup: int, steps: int
) -> tuple[float, float]:
    """(seconds of the first call, images/s over ``steps`` calls after ``warmup`` more)."""
    with context():
        started = time.perf_counter()
        model(images)
        first_call = time.perf_counter() - started
        for _ in range(warmup):
            model(images)
        started = time.perf_counter()
        for _ in range(steps):
            model(images)
        seconds = time.perf_counter() - started
    return first_call, steps * len(images) / seconds


def inference_section(settings: Settings) -> dict[str, Any]:
    import torch

    from multiclass_segmentation.core.models import build_model

    training, classes = _training_params(settings)
    model = build_model(training.model, classes.num_classes).eval()
    variants = _variants(model, settings.compile_backend)
    result: dict[str, Any] = {"device": "cpu", "compile_backend": settings.compile_backend}
    for batch_size in INFERENCE_BATCH_SIZES:
        torch.manual_seed(0)
        images = torch.randn(batch_size, 3, training.image_size, training.image_size)
        per_variant, first_calls = {}, {}
        for name, (variant, memory_format, context) in variants.items():
            try:
                first_call, ips = _time_batches(
                    variant,
                    images.contiguous(memory_format=memory_format),
                    context,
                    settings.warmup,
                    settings.inference_steps,
                )
            except Exception as error:
                # inductor compiles C++ at run time: a missing or broken toolchain is a
                # result to report, not a reason to lose the other measurements.
                if name != "compile":
                    raise
                errors = result.setdefault("errors", {})
                errors[f"{name}, batch {batch_size}"] = f"{type(error).__name__}: {error}"[:2000]
                continue
            per_variant[name] = round(ips, 3)
            first_calls[name] = round(first_call, 3)
        best = max(per_variant, key=per_variant.get)
        result[f"batch_{batch_size}"] = {
            "images_per_s": per_variant,
            "first_call_seconds": first_calls,
            "best": best,
            "best_speedup_vs_no_grad": round(per_variant[best] / per_variant["no_grad"], 3),
        }
    return result


# The study's paired bootstrap at its test split's size (120 images, 3 classes).
BOOTSTRAP_IMAGES = 120
BOOTSTRAP_SAMPLES = 10_000


def statistics_section(settings: Settings) -> dict[str, Any]:
    """Seconds of one paired bootstrap of the study's size (a test asserted this once;
    a busy machine broke it)."""
    import numpy as np

    from multiclass_segmentation.analysis.study_statistics import paired_bootstrap

    a, b = np.random.default_rng(0).integers(0, 10_000, size=(2, BOOTSTRAP_IMAGES, 3, 3))
    started = time.perf_counter()
    paired_bootstrap(a, b, samples=BOOTSTRAP_SAMPLES)
    return {
        "images": BOOTSTRAP_IMAGES,
        "samples": BOOTSTRAP_SAMPLES,
        "paired_bootstrap_seconds": round(time.perf_counter() - started, 3),
    }


SECTIONS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "training": training_section,
    "inference": inference_section,
    "statistics": statistics_section,
    "gpu": gpu_section,
}


def _summary(report: dict[str, Any]) -> str:
    training = report["training"]
    lines = [
        f"training  {training['lightning_pipeline_images_per_s']:.2f} images/s with Lightning, "
        f"{training['plain_pytorch_images_per_s']:.2f} plain: ratio "
        f"{training['lightning_to_plain_ratio']:.3f}; peak RSS {training['peak_rss_mb']} MB",
        f"data      {training['data_path']['loader_images_per_s']} images/s through the loader "
        f"({training['data_path']['num_workers']} workers; decode alone "
        f"{training['data_path']['decode_images_per_s']} images/s in one process) against "
        f"the model's {training['plain_pytorch_images_per_s']:.2f}: the "
        f"{training['data_path']['bottleneck']} is the bottleneck",
    ]
    for batch_size in INFERENCE_BATCH_SIZES:
        entry = report["inference"][f"batch_{batch_size}"]
        variants = ", ".join(f"{k} {v:.1f}" for k, v in entry["images_per_s"].items())
        lines.append(f"inference batch {batch_size}: {variants} images/s (best {entry['best']})")
    for where, error in report["inference"].get("errors", {}).items():
        lines.append(f"inference {where} failed: {error.splitlines()[0]}")
    lines.append(f"inference peak RSS {report['inference']['peak_rss_mb']} MB")
    statistics = report["statistics"]
    lines.append(
        f"statistics one paired bootstrap ({statistics['images']} images, "
        f"{statistics['samples']} samples): {statistics['paired_bootstrap_seconds']} s"
    )
    gpu = report["gpu"]
    if gpu["available"]:
        lines.append(
            f"gpu       {gpu['device']}: {gpu['plain_pytorch_images_per_s']:.1f} images/s plain, "
            f"{gpu['lightning_pipeline_images_per_s']:.1f} with Lightning"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
