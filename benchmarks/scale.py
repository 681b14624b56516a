"""Scale benchmark: wall time and peak memory of each pipeline stage as the dataset grows.

    .venv/bin/python benchmarks/run.py --scale 600       # 600 and 2400 images (make bench-scale)
    .venv/bin/python benchmarks/scale.py --scale 40 --work-dir /tmp/scale  # keeps the datasets
    .venv/bin/python benchmarks/run.py --scale-sizes 10000 --stages data_validation,eda

Project issue 9 asks for memory that stays flat in the number of images. This
section measures it: for each size it writes (or reuses) a synthetic dataset of
512 px images with the project's generator, then runs `kedro run --pipelines
<stage>` for data_validation, eda, training and evaluation, each in a
subprocess of its own, on a throw-away copy of the project's configuration, so
the user's data/ is never touched. A size counts every image of a dataset:
2/3 train, 1/6 val, 1/6 test (600 -> 400/100/100).

Training runs one epoch limited to a few batches with the demo environment's
tiny U-Net: the model's compute is the same at every size, so what grows is
the data path (loading the validated splits). Evaluation predicts every val
and test image with the model that training just saved.

For every stage it records the wall time, the peak resident memory of the
process tree (the kedro process plus its children such as DataLoader workers,
sampled every 0.1 s), the kernel's max RSS of the kedro process (os.wait4), and
the size of data/03_primary after the stage. Results go to
benchmarks/results/scale-<UTC time>.json (or --output) and a markdown table
with the ratios of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
STAGES = ("data_validation", "eda", "training", "evaluation")
# A stage reads what the stage before it wrote into the project copy (training
# reads the EDA's suggested class weights).
STAGE_NEEDS = {"eda": "data_validation", "training": "eda", "evaluation": "training"}
IMAGE_SIZE = 512
SAMPLE_INTERVAL_S = 0.1
# Issue 9's targets, largest size against smallest: memory flat (RSS ratio at most
# 1.3) and time no worse than linear (wall ratio at most the ratio of the sizes).
RSS_RATIO_TARGET = 1.3
# The synthetic images are alike (one object on a noisy background), so the
# leakage check finds near-duplicates across splits; that is an error in the
# project's configuration and would stop data_validation.
SEVERITY_OVERRIDES = {"data_validation.severity.near_duplicate_images_across_splits": "warning"}
STDERR_TAIL_CHARS = 4000


@dataclass
class Measurement:
    """One subprocess: seconds, peak RSS of its tree and of itself (MB), exit status."""

    wall_s: float
    peak_tree_rss_mb: float
    main_max_rss_mb: float
    returncode: int


class StageFailed(RuntimeError):
    """A measured subprocess exited with an error; the message ends with its stderr tail."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = args.scale_sizes or [args.scale, 4 * args.scale]
    stages = _check_stages(args.stages)
    stamp = f"{datetime.now(timezone.utc):%Y-%m-%dT%H.%M.%SZ}"
    output = args.output or RESULTS_DIR / f"scale-{stamp}.json"
    print(
        "Scale benchmark: sizes "
        + ", ".join(f"{size} ({'/'.join(map(str, split_counts(size)))})" for size in sizes)
        + f" images (train/val/test) at {IMAGE_SIZE} px; stages {', '.join(stages)}.\n"
        "data_validation runs with "
        + ", ".join(f"{k}={v}" for k, v in SEVERITY_OVERRIDES.items())
        + ": the synthetic images look alike across splits.",
        flush=True,
    )
    runs: dict[int, dict[str, Any]] = {}
    with _work_dir(args.work_dir) as work_dir:
        try:
            for size in sizes:
                runs[size] = _run_size(size, stages, work_dir, args)
        except StageFailed as error:
            print(f"\n{error}", file=sys.stderr)
            if args.work_dir is None:
                print("(The logs go with the temporary folder; --work-dir keeps them.)")
            return 1
    report = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": _describe(args, sizes, stages),
        "runs": {str(size): run for size, run in runs.items()},
        "ratios": ratios(runs, stages),
    }
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(markdown_table(runs, stages))
    print(f"\nWrote {output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py --scale", description=__doc__.splitlines()[0]
    )
    sizes = parser.add_mutually_exclusive_group(required=True)
    sizes.add_argument(
        "--scale", type=_size, metavar="N", help="measure N and 4N images (all splits together)"
    )
    sizes.add_argument(
        "--scale-sizes",
        type=_sizes,
        metavar="N[,M...]",
        help="measure these sizes instead, e.g. 10000 (one size: no ratios)",
    )
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma-separated subset of {','.join(STAGES)} (default all)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep datasets and project copies here and reuse the datasets "
        "(default: a temporary folder, removed afterwards)",
    )
    parser.add_argument(
        "--env", default="demo", help="configuration environment (default demo: a tiny U-Net)"
    )
    parser.add_argument(
        "--train-batches", type=_positive, default=4, help="training batches of the one epoch"
    )
    parser.add_argument("--val-batches", type=_positive, default=2, help="validation batches")
    parser.add_argument(
        "--train-image-size", type=_positive, default=64, help="training.image_size (default 64)"
    )
    parser.add_argument(
        "--num-workers", type=int, default=0, help="training.num_workers (DataLoader processes)"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/results/)")
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _size(value: str) -> int:
    number = int(value)
    if number < 6:  # val and test need an image each
        raise argparse.ArgumentTypeError(f"must be at least 6 images, got {value}")
    return number


def _sizes(value: str) -> list[int]:
    return [_size(part) for part in value.split(",") if part.strip()]


def _check_stages(value: str) -> list[str]:
    """The requested stages in pipeline order; each needs the one it reads from."""
    requested = {name.strip() for name in value.split(",") if name.strip()}
    unknown = requested - set(STAGES)
    if unknown:
        raise SystemExit(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    for stage in requested & set(STAGE_NEEDS):
        if STAGE_NEEDS[stage] not in requested:
            raise SystemExit(f"stage {stage} reads what {STAGE_NEEDS[stage]} writes: add it")
    return [stage for stage in STAGES if stage in requested]


def split_counts(total: int) -> tuple[int, int, int]:
    """(train, val, test) for ``total`` images: a sixth each for val and test."""
    held_out = total // 6
    return total - 2 * held_out, held_out, held_out


@contextmanager
def _work_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        yield Path(tmp)


# --- one size -----------------------------------------------------------------------------


def _run_size(size: int, stages: Sequence[str], work_dir: Path, args: argparse.Namespace) -> dict:
    dataset, generated = _dataset(size, work_dir)
    project = _fresh_project_copy(work_dir / "projects" / f"n{size}")
    result: dict[str, Any] = {
        "counts": dict(zip(("train", "val", "test"), split_counts(size), strict=True)),
        "dataset": str(dataset),
        "generate": asdict(generated) if generated else "reused",
        "stages": {},
    }
    for stage in stages:
        print(f"[{size} images] {stage} ...", flush=True)
        command = _kedro_command(stage, dataset, args)
        measured = run_measured(command, project, project / "logs" / f"{stage}")
        result["stages"][stage] = {
            **asdict(measured),
            "primary_mb": _folder_mb(project / "data" / "03_primary"),
        }
        print(
            f"[{size} images] {stage}: {measured.wall_s:.1f} s, tree "
            f"{measured.peak_tree_rss_mb:.0f} MB, main {measured.main_max_rss_mb:.0f} MB",
            flush=True,
        )
    return result


def _dataset(size: int, work_dir: Path) -> tuple[Path, Measurement | None]:
    """The synthetic dataset of ``size`` images, written by the project's generator if missing.

    The generator renames a finished folder into place, so one that exists is complete.
    """
    train, val, test = split_counts(size)
    root = work_dir / "datasets" / f"synthetic_{IMAGE_SIZE}px_{train}-{val}-{test}"
    if root.exists():
        print(f"[{size} images] reusing {root}", flush=True)
        return root, None
    print(f"[{size} images] generating {root} ...", flush=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "multiclass_segmentation.commands.synthetic",
        "--root",
        str(root),
    ]
    command += ["--train", str(train), "--val", str(val), "--test", str(test)]
    command += ["--image-size", str(IMAGE_SIZE)]
    # The generator reads the classes from the project's configuration (read only).
    return root, run_measured(command, PROJECT_ROOT, work_dir / "logs" / f"generate_{size}")


def _fresh_project_copy(project: Path) -> Path:
    """A project copy (tracking off) that the stages write into, with a logs/ folder.

    A copy an earlier run left is replaced, so its models and versions do not count.
    """
    from multiclass_segmentation.commands.scratch_project import copy_project

    if project.exists():
        shutil.rmtree(project)
    copy_project(PROJECT_ROOT, project)
    (project / "logs").mkdir()
    return project


def _kedro_command(stage: str, dataset: Path, args: argparse.Namespace) -> list[str]:
    params = {"dataset.root": str(dataset)}
    if stage == "data_validation":
        params.update(SEVERITY_OVERRIDES)
    if stage == "training":
        params.update(
            {
                "training.epochs": 1,
                "training.trainer.limit_train_batches": args.train_batches,
                "training.trainer.limit_val_batches": args.val_batches,
                "training.image_size": args.train_image_size,
                "training.num_workers": args.num_workers,
            }
        )
    joined = ",".join(f"{key}={value}" for key, value in params.items())
    return [sys.executable, "-m", "kedro", "run", "--env", args.env, "--pipelines", stage] + [
        "--params",
        joined,
    ]


def _folder_mb(folder: Path) -> float:
    files = (path for path in folder.rglob("*") if path.is_file())
    return round(sum(path.stat().st_size for path in files) / 1024**2, 1)


# --- measuring a subprocess ---------------------------------------------------------------


def run_measured(
    command: Sequence[str], cwd: Path, log_stem: Path, interval: float = SAMPLE_INTERVAL_S
) -> Measurement:
    """Runs ``command``, sampling its tree's RSS; raises StageFailed if it exits with an error.

    stdout and stderr go to ``<log_stem>.out`` and ``.err`` (files, not pipes:
    a full pipe would block the command while this loop only samples).
    """
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_stem.with_suffix(".out"), log_stem.with_suffix(".err")
    env = {**os.environ, **_quiet_environment()}
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        peak_tree = 0
        while True:
            # wait4 rather than Popen.wait: it also returns the kernel's rusage of the child.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, tree_rss_bytes(process.pid))
            time.sleep(interval)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    measured = Measurement(
        wall_s=round(wall, 2),
        peak_tree_rss_mb=round(peak_tree / 1024**2, 1),
        main_max_rss_mb=_maxrss_mb(usage.ru_maxrss),
        returncode=process.returncode,
    )
    if process.returncode != 0:
        tail = err_path.read_text(errors="replace")[-STDERR_TAIL_CHARS:]
        raise StageFailed(
            f"{' '.join(command)}\nexited with {process.returncode} after {wall:.1f} s "
            f"(in {cwd}; logs {out_path}, {err_path}). Its stderr ends:\n{tail}"
        )
    return measured


def tree_rss_bytes(pid: int) -> int:
    """The resident memory of ``pid`` and all its descendants, summed.

    Pages that a forked worker still shares with its parent count once per
    process, so this is an upper bound of what the tree holds.
    """
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:  # ended (or a zombie) between two samples
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def _maxrss_mb(maxrss: int) -> float:
    # Linux reports KiB, macOS bytes. wait4's figure is the larger of the process's
    # own peak and that of the largest child it waited for.
    return round(maxrss / (1024**2 if sys.platform == "darwin" else 1024), 1)


def _quiet_environment() -> dict[str, str]:
    """Offline and quiet, as `make` runs the project; the caller's settings win."""
    defaults = {
        "KEDRO_DISABLE_TELEMETRY": "1",
        "NO_ALBUMENTATIONS_UPDATE": "1",
        "HF_HUB_OFFLINE": "1",
        "CLEARML_OFFLINE_MODE": "1",
        "MPLBACKEND": "Agg",
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


# --- report -------------------------------------------------------------------------------

RATIO_FIELDS = {"wall": "wall_s", "tree_rss": "peak_tree_rss_mb", "main_rss": "main_max_rss_mb"}


def ratios(runs: dict[int, dict[str, Any]], stages: Sequence[str]) -> dict[str, Any]:
    """Per stage, largest size's figures over the smallest's; empty for one size."""
    if len(runs) < 2:
        return {}
    small, large = min(runs), max(runs)
    result: dict[str, Any] = {"sizes": [small, large], "size_ratio": round(large / small, 3)}
    for stage in stages:
        before, after = runs[small]["stages"][stage], runs[large]["stages"][stage]
        result[stage] = {
            name: round(after[field] / before[field], 3) if before[field] else None
            for name, field in RATIO_FIELDS.items()
        }
        # At small sizes the interpreter and torch (about 1 GB) hide the growth in the
        # ratio; the memory each added image costs does not depend on that base.
        result[stage]["main_rss_mb_per_100_images"] = round(
            100 * (after["main_max_rss_mb"] - before["main_max_rss_mb"]) / (large - small), 1
        )
    return result


def markdown_table(runs: dict[int, dict[str, Any]], stages: Sequence[str]) -> str:
    """Stage rows; per size wall s, tree and main RSS MB, 03_primary MB; then the ratios."""
    sizes = sorted(runs)
    header = ["stage"]
    for size in sizes:
        header += [f"{size}: wall s", "tree RSS MB", "main RSS MB", "03_primary MB"]
    found = ratios(runs, stages)
    if found:
        header += ["wall ratio", "tree RSS ratio", "main RSS ratio", "main RSS MB/100 images"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for stage in stages:
        row = [stage]
        for size in sizes:
            entry = runs[size]["stages"][stage]
            row += [
                f"{entry['wall_s']:.1f}",
                f"{entry['peak_tree_rss_mb']:.0f}",
                f"{entry['main_max_rss_mb']:.0f}",
                f"{entry['primary_mb']:.1f}",
            ]
        if found:
            targets = {
                "wall": found["size_ratio"],
                "tree_rss": RSS_RATIO_TARGET,
                "main_rss": RSS_RATIO_TARGET,
            }
            row += [_ratio_cell(found[stage][name], targets[name]) for name in RATIO_FIELDS]
            row.append(f"{found[stage]['main_rss_mb_per_100_images']:+.1f}")
        lines.append("| " + " | ".join(row) + " |")
    if found:
        small, large = found["sizes"]
        lines.append(
            f"\nRatios: {large} images over {small}. Targets: RSS ratio <= {RSS_RATIO_TARGET} "
            f"(flat memory), wall ratio <= {found['size_ratio']:g} (linear); 'over' marks a "
            "miss. The last column: main RSS added per 100 more images."
        )
    return "\n".join(lines)


def _ratio_cell(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" + (" over" if value > target else "")


def _describe(args: argparse.Namespace, sizes: Sequence[int], stages: Sequence[str]) -> dict:
    return {
        "sizes": list(sizes),
        "size_means": "all images of a dataset: 2/3 train, 1/6 val, 1/6 test",
        "image_size": IMAGE_SIZE,
        "stages": list(stages),
        "env": args.env,
        "training": {
            "epochs": 1,
            "limit_train_batches": args.train_batches,
            "limit_val_batches": args.val_batches,
            "image_size": args.train_image_size,
            "num_workers": args.num_workers,
        },
        "severity_overrides": SEVERITY_OVERRIDES,
        "sample_interval_s": SAMPLE_INTERVAL_S,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
