"""The HTTP service (``serving/app.py``) under uvicorn; ``make serve`` runs it.

python -m multiclass_segmentation.commands.serve --env base --port 8000
python -m multiclass_segmentation.commands.serve --model data/06_models/base --version 2026-...Z
python -m multiclass_segmentation.commands.serve --model data/06_models/<ensemble>

The classes (names, colours), the test-time augmentation (``inference.tta``) and the
default model folder (``data/06_models/<hypothesis>``) come from the environment's
parameters. SEGMENTATION_API_KEY, when set, is required (X-API-Key header) on
``/predict`` and ``/reload``.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
from pathlib import Path

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.inference import InferenceParams
from multiclass_segmentation.errors import BadInputError

API_KEY_VARIABLE = "SEGMENTATION_API_KEY"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.commands.serve",
        description="Serve a trained model over HTTP (FastAPI under uvicorn).",
    )
    parser.add_argument("--project-path", type=Path, default=Path("."))
    parser.add_argument("--env", default="base", help="the environment: classes, TTA, model")
    parser.add_argument(
        "--model",
        type=Path,
        help="a folder of model versions (data/06_models/<hypothesis or ensemble>) or one "
        "saved model's folder; default: inference.model_dir of --env",
    )
    parser.add_argument("--version", help="a version in --model; the latest by default")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--expose",
        action="store_true",
        help="allow a --host other than localhost (docs/serving.md: what that exposes)",
    )
    parser.add_argument("--runtime", choices=["onnx", "torch"], default="onnx")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--threads", type=int, help="inference threads (ONNX Runtime, torch); default all cores"
    )
    parser.add_argument("--max-bytes", type=int, default=20 * 2**20, help="largest upload")
    parser.add_argument("--max-pixels", type=int, default=40_000_000, help="largest image")
    return parser.parse_args(argv)


def check_host(host: str, expose: bool) -> None:
    """Binding beyond this machine is opt-in: anyone who reaches the port can use the model."""
    if host not in LOCAL_HOSTS and not expose:
        raise BadInputError(
            f"--host {host} would serve the model beyond this machine; add --expose if you mean "
            f"it (and set {API_KEY_VARIABLE}; docs/serving.md)"
        )


def build_settings(args: argparse.Namespace):  # -> ServiceSettings (imported on call: torch)
    from multiclass_segmentation.io.config_loading import environment_parameters
    from multiclass_segmentation.serving.app import ServiceSettings
    from multiclass_segmentation.serving.model import ModelChoice

    project = args.project_path.resolve()
    parameters = environment_parameters(project, args.env)
    inference = InferenceParams(**parameters["inference"])
    model_path = args.model or Path(inference.model_dir)
    reporting_dir = project / "data" / "08_reporting"
    return ServiceSettings(
        choice=ModelChoice(
            path=model_path if model_path.is_absolute() else project / model_path,
            version=args.version,
            runtime=args.runtime,
            device=args.device,
            threads=args.threads,
        ),
        classes=ClassesParams(**parameters["classes"]),
        tta=inference.tta,
        reporting_dir=reporting_dir,
        max_bytes=args.max_bytes,
        max_pixels=args.max_pixels,
        overlay_alpha=inference.overlay_alpha,
        api_key=os.environ.get(API_KEY_VARIABLE) or None,
    )


def set_torch_threads(runtime: str, threads: int | None) -> None:
    """With ONNX Runtime, torch only resizes and normalises: one thread does that faster
    than several that wait for each other on a busy CPU (8 ms per operation at load 4 on
    2 cores, make bench-serve); the network's threads are ONNX Runtime's."""
    import torch

    if runtime == "onnx":
        torch.set_num_threads(1)
    elif threads is not None:
        torch.set_num_threads(threads)


def limit_malloc_growth() -> None:
    """glibc: buffers over 1 MiB (decoded images, probability maps) are mapped and unmapped
    each time, and two arenas serve every thread. By default glibc raises the mapping
    threshold after the first such free and gives each thread an arena, so a service that
    handles 1024 px images in several threads grows by hundreds of MB (make bench-serve)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_mmap_threshold, m_arena_max = -3, -8  # malloc.h
    libc.mallopt(m_mmap_threshold, 1 << 20)
    libc.mallopt(m_arena_max, 2)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from multiclass_segmentation.serving.app import create_app

    args = parse_args(argv)
    check_host(args.host, args.expose)
    limit_malloc_growth()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = build_settings(args)
    set_torch_threads(args.runtime, args.threads)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        # Past this many open requests uvicorn answers 503 at once instead of queueing more.
        limit_concurrency=256,
        timeout_keep_alive=5,
        log_level="info",
    )


if __name__ == "__main__":
    main()
