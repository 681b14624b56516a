"""The benchmark script's smoke configuration writes every measurement as a positive number."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_ROOT

TRAINING_FIELDS = {
    "lightning_pipeline_images_per_s",
    "plain_pytorch_images_per_s",
    "plain_pytorch_runs_images_per_s",
    "lightning_to_plain_ratio",
    "data_path",
    "peak_rss_mb",
}
INFERENCE_VARIANTS = {"no_grad", "inference_mode", "channels_last", "compile"}


def _numbers(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every number in a nested dict/list; booleans are not numbers here."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{where}[{index}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield where, value


def test_quick_benchmark_reports_every_measurement(tmp_path: Path):
    output = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "run.py"), "--quick"]
        + ["--output", str(output)],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(output.read_text())

    assert report["settings"]["quick"] is True
    assert report["settings"]["model"]["architecture"] == "Unet"
    training = report["training"]
    assert set(training) >= TRAINING_FIELDS
    data_path = training["data_path"]
    assert set(data_path) == {
        "num_workers",
        "decode_images_per_s",
        "loader_images_per_s",
        "bottleneck",
    }
    # The demo environment's training.num_workers (0) is the loader's, unless --num-workers.
    assert data_path["num_workers"] == 0
    assert data_path["bottleneck"] in {"data", "model"}
    inference = report["inference"]
    assert inference["peak_rss_mb"] > 0
    for batch in ("batch_1", "batch_16"):
        assert set(inference[batch]["images_per_s"]) == INFERENCE_VARIANTS
        assert set(inference[batch]["first_call_seconds"]) == INFERENCE_VARIANTS
        assert inference[batch]["best"] in INFERENCE_VARIANTS
    assert report["gpu"]["available"] is False or report["gpu"]["device"]
    sections = {name: report[name] for name in ("training", "inference", "gpu")}
    numbers = list(_numbers(sections, "report"))
    assert len(numbers) >= 25
    numbers = [n for n in numbers if not n[0].endswith("num_workers")]
    assert all(value > 0 for _, value in numbers), [n for n in numbers if n[1] <= 0]
