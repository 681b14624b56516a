"""Load benchmark of the HTTP service (make bench-serve), beside raw ONNX Runtime.

    .venv/bin/python benchmarks/serve.py               # the full run (about 10 minutes)
    .venv/bin/python benchmarks/serve.py --quick       # a smoke run (seconds of load)

The model is the default architecture (conf/base/parameters_training.yml: FPN on
tu-tf_efficientnet_lite2, 256 px, 3 classes) with the packaged ImageNet encoder
weights and a random decoder: speed does not depend on training. The service runs
as `python -m multiclass_segmentation.commands.serve` in its own process on
127.0.0.1; an asyncio client (httpx) keeps 1, 4 or 16 requests open at once with
256 px and 1024 px JPEGs. Raw ONNX Runtime is timed in this process on the same
images: the network alone (one session.run on the image and its flip, the
service's TTA) and the whole OnnxSegmenter prediction (resize, normalise, network,
resize back). Results: benchmarks/results/serve-<UTC time>.json (or --output); the
machine's load average is recorded, since another job may share the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import yaml
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
VERSION = "2026-01-01T00.00.00.000Z"
SIZES = (256, 1024)
CONCURRENCIES = (1, 4, 16)
RSS_REQUESTS = 2000


def default_segmenter():
    """The default hypothesis's network, untrained decoder, with its preprocessing."""
    from multiclass_segmentation.config.model import ModelParams
    from multiclass_segmentation.core.models import build_model, normalization_for
    from multiclass_segmentation.core.segmenter import Segmenter

    training = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_training.yml").read_text())
    params = ModelParams(**training["training"]["model"])
    mean, std = normalization_for(params)
    return Segmenter(
        model=build_model(params, 3).eval(),
        class_names=["background", "cat", "dog"],
        image_size=training["training"]["image_size"],
        mean=mean,
        std=std,
        hypothesis="base",
        info={"benchmark": "random decoder"},
    )


def save_model(work: Path) -> Path:
    from kedro.io import Version

    from multiclass_segmentation.io.datasets import SegmentationModelDataset

    models = work / "models" / "base"
    SegmentationModelDataset(filepath=str(models), version=Version(None, VERSION)).save(
        default_segmenter()
    )
    return models


def test_image(size: int, seed: int = 0) -> bytes:
    """A smooth random JPEG (a photo's file size, unlike pure noise) of size x size px."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    image = coarse.resize((size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(models: Path, port: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "multiclass_segmentation.commands.serve",
        "--project-path",
        str(PROJECT_ROOT),
        "--model",
        str(models),
        "--port",
        str(port),
    ]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "KEDRO_DISABLE_TELEMETRY": "1"}
    with open(log, "w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)


def wait_ready(base: str, server: subprocess.Popen, log: Path, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the server was not ready within {timeout_s} s")


async def load(
    base: str, image: bytes, concurrency: int, requests: int | None, duration_s: float | None
) -> dict[str, Any]:
    """``concurrency`` clients posting ``image`` until ``requests`` are done or ``duration_s``."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    started = time.perf_counter()
    issued = 0

    def more() -> bool:
        nonlocal issued
        if requests is not None and issued >= requests:
            return False
        if duration_s is not None and time.perf_counter() - started >= duration_s:
            return False
        issued += 1
        return True

    async def client(session: httpx.AsyncClient) -> None:
        while more():
            begin = time.perf_counter()
            try:
                response = await session.post(
                    f"{base}/predict", files={"file": ("image.jpg", image, "image/jpeg")}
                )
                key = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                key = type(error).__name__
            if key is None:
                latencies.append(time.perf_counter() - begin)
            else:
                errors[key] = errors.get(key, 0) + 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(latencies) + sum(errors.values()),
        "errors": errors,
        "duration_s": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        **latency_percentiles(latencies),
    }


def latency_percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    points = np.percentile(np.array(latencies) * 1000, [50, 95, 99])
    return {f"p{q}_ms": round(float(v), 1) for q, v in zip((50, 95, 99), points, strict=True)}


def raw_onnx(onnx_path: Path, images: dict[int, bytes], repeats: int) -> dict[str, Any]:
    """ONNX Runtime in this process on the same decoded images, the service's TTA (hflip)."""
    import torch

    from multiclass_segmentation.core.onnx_segmenter import OnnxSegmenter
    from multiclass_segmentation.io.imaging import rgb_array

    # As the service runs it (commands/serve.set_torch_threads).
    torch.set_num_threads(1)
    segmenter = OnnxSegmenter.from_file(onnx_path)
    size = segmenter.image_size
    network_input = np.random.default_rng(0).standard_normal((2, 3, size, size))
    network_batch = torch.from_numpy(network_input.astype(np.float32))
    results: dict[str, Any] = {
        "network_image_and_flip": timed(lambda: segmenter.run_model(network_batch), repeats)
    }
    for batch in (4,):
        doubled = torch.cat([network_batch] * batch)
        timing = timed(lambda doubled=doubled: segmenter.run_model(doubled), max(3, repeats // 4))
        timing["images_per_s"] = round(batch * 1000 / timing["median_ms"], 2)
        results[f"network_batch_{batch}_with_flips"] = timing
    for image_size, data in images.items():
        rgb = rgb_array(Image.open(io.BytesIO(data)))
        results[f"prediction_{image_size}px"] = timed(
            lambda rgb=rgb: segmenter.predict(rgb, hflip=True), repeats
        )
    for timing in results.values():
        timing.setdefault("images_per_s", round(1000 / timing["median_ms"], 2))
    return results


def paired_single_image(base: str, data: bytes, onnx_path: Path, rounds: int) -> dict[str, Any]:
    """One 256 px image, served at concurrency 1 and predicted in this process, in
    alternating blocks of 5: a busy neighbour on the CPU slows both alike."""
    import torch

    from multiclass_segmentation.core.onnx_segmenter import OnnxSegmenter
    from multiclass_segmentation.io.imaging import rgb_array

    torch.set_num_threads(1)
    segmenter = OnnxSegmenter.from_file(onnx_path)
    rgb = rgb_array(Image.open(io.BytesIO(data)))
    raw, served = [], []
    with httpx.Client(timeout=60) as client:
        for _ in range(rounds):
            for _ in range(5):
                begin = time.perf_counter()
                segmenter.predict(rgb, hflip=True)
                raw.append(time.perf_counter() - begin)
            for _ in range(5):
                begin = time.perf_counter()
                response = client.post(f"{base}/predict", files={"file": ("a.jpg", data)})
                response.raise_for_status()
                served.append(time.perf_counter() - begin)
    raw_ms, served_ms = statistics.median(raw) * 1000, statistics.median(served) * 1000
    return {
        "requests": len(served),
        "raw_prediction_median_ms": round(raw_ms, 1),
        "served_p50_ms": round(served_ms, 1),
        "ratio": round(served_ms / raw_ms, 2),
    }


def timed(function, repeats: int) -> dict[str, float]:
    function()  # warm-up: ONNX Runtime allocates its buffers on the first run
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        function()
        times.append((time.perf_counter() - begin) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "repeats": repeats}


def run_load(base: str, images: dict[int, bytes], quick: bool, rss) -> list[dict[str, Any]]:
    runs = []
    for size in SIZES:
        for concurrency in CONCURRENCIES:
            if concurrency == 16:
                # The target: zero errors at concurrency 16 for 60 s.
                result = asyncio.run(load(base, images[size], 16, None, 5 if quick else 60))
            else:
                count = (
                    (4 if quick else 40) * concurrency if concurrency > 1 else (5 if quick else 60)
                )
                result = asyncio.run(load(base, images[size], concurrency, count, None))
            result.update(image_px=size, server_rss_mb=rss())
            print(json.dumps(result), flush=True)
            runs.append(result)
    return runs


def ratios(raw: dict[str, Any], runs: list[dict[str, Any]], paired: dict) -> dict[str, float]:
    """The targets' ratios: served throughput at concurrency 4 (256 px) over raw ONNX
    Runtime's, and the served p50 of one image at concurrency 1 over the raw time."""
    (served_4,) = (
        r for r in runs if (r["image_px"], r["concurrency"]) == (256, 4) and "purpose" not in r
    )
    return {
        "throughput_c4_over_raw_prediction": round(
            served_4["requests_per_s"] / raw["prediction_256px"]["images_per_s"], 2
        ),
        "throughput_c4_over_raw_network": round(
            served_4["requests_per_s"] / raw["network_image_and_flip"]["images_per_s"], 2
        ),
        "p50_c1_over_raw_prediction_paired": paired["ratio"],
    }


def measure(base: str, server: subprocess.Popen, onnx_path: Path, quick: bool) -> dict[str, Any]:
    """Raw ONNX Runtime, the paired single-image comparison, the load runs and the RSS."""
    images = {size: test_image(size) for size in SIZES}
    process = psutil.Process(server.pid)

    def rss() -> float:
        return round(process.memory_info().rss / 2**20, 1)

    rss_ready = rss()
    # ONNX Runtime and the allocator take their working memory on the first requests:
    # growth is measured from after them.
    for size in SIZES:
        asyncio.run(load(base, images[size], 1, 3, None))
    rss_start = rss()
    raw = raw_onnx(onnx_path, images, 5 if quick else 30)
    print(json.dumps(raw), flush=True)
    paired = paired_single_image(base, images[256], onnx_path, 2 if quick else 12)
    print(json.dumps(paired), flush=True)
    runs = run_load(base, images, quick, rss)
    done = sum(run["requests"] for run in runs) + paired["requests"]
    total = 40 if quick else RSS_REQUESTS
    if done < total:
        top_up = asyncio.run(load(base, images[256], 4, total - done, None))
        top_up.update(image_px=256, server_rss_mb=rss(), purpose="top-up to 2000")
        runs.append(top_up)
    rss_end = rss()
    return {
        "raw_onnxruntime": raw,
        "paired_single_image_256px": paired,
        "served": runs,
        "ratios": ratios(raw, runs, paired),
        "server_rss_mb": {
            "ready": rss_ready,
            "start": rss_start,
            "end": rss_end,
            "requests": sum(run["requests"] for run in runs) + paired["requests"],
            "growth_pct": round(100 * (rss_end - rss_start) / rss_start, 1),
        },
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        work = Path(folder)
        models = save_model(work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = work / "server.log"
        server = start_server(models, port, log)
        try:
            wait_ready(base, server, log)
            measured = measure(base, server, models / VERSION / "base" / "model.onnx", args.quick)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": "FPN tu-tf_efficientnet_lite2, 256 px, 3 classes; ONNX Runtime CPU; TTA hflip",
        **measured,
    }
    output = args.output or RESULTS_DIR / f"serve-{result['created'].replace(':', '-')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {output}")
    return output


if __name__ == "__main__":
    main()
