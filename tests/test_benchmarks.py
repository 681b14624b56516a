"""The benchmark script: its smoke configuration reports every measurement, and the derived
fields (means, ratio, bottleneck) follow from the measured speeds."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, load_benchmark_script

TRAINING_FIELDS = {
    "lightning_pipeline_images_per_s",
    "plain_pytorch_images_per_s",
    "plain_pytorch_runs_images_per_s",
    "lightning_to_plain_ratio",
    "data_path",
    "peak_rss_mb",
}
INFERENCE_VARIANTS = {"no_grad", "inference_mode", "channels_last", "compile"}


run_benchmark = load_benchmark_script("run")


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


@pytest.mark.slow
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
    # The derived fields, worked out again from the speeds the report lists (each rounded
    # to 3 decimals, hence the tolerances).
    plain_runs = training["plain_pytorch_runs_images_per_s"]
    assert len(plain_runs) == 2
    plain = (plain_runs[0] + plain_runs[1]) / 2
    assert training["plain_pytorch_images_per_s"] == pytest.approx(plain, abs=2e-3)
    assert training["lightning_to_plain_ratio"] == pytest.approx(
        training["lightning_pipeline_images_per_s"] / plain, rel=1e-3, abs=1e-4
    )
    if abs(data_path["loader_images_per_s"] - plain) > 0.1:
        slower = "data" if data_path["loader_images_per_s"] < plain else "model"
        assert data_path["bottleneck"] == slower
    inference = report["inference"]
    assert inference["peak_rss_mb"] > 0
    for batch in ("batch_1", "batch_16"):
        assert set(inference[batch]["images_per_s"]) == INFERENCE_VARIANTS
        assert set(inference[batch]["first_call_seconds"]) == INFERENCE_VARIANTS
        assert inference[batch]["best"] in INFERENCE_VARIANTS
    assert report["gpu"]["available"] is False or report["gpu"]["device"]
    assert report["statistics"]["paired_bootstrap_seconds"] > 0
    sections = {name: report[name] for name in ("training", "inference", "gpu")}
    numbers = list(_numbers(sections, "report"))
    assert len(numbers) >= 25
    numbers = [n for n in numbers if not n[0].endswith("num_workers")]
    assert all(value > 0 for _, value in numbers), [n for n in numbers if n[1] <= 0]


def test_training_comparison_from_fixed_speeds():
    # Plain runs at 36 and 44 images/s: 40 on average. Lightning at 30: ratio 30 / 40 = 0.75.
    # The loader's 25 images/s are fewer than the model's 40, so data is the bottleneck.
    fields = run_benchmark.training_comparison(30.0, (36.0, 44.0), 25.0, 123.456, 2)

    assert fields == {
        "lightning_pipeline_images_per_s": 30.0,
        "plain_pytorch_images_per_s": 40.0,
        "plain_pytorch_runs_images_per_s": [36.0, 44.0],
        "lightning_to_plain_ratio": 0.75,
        "data_path": {
            "num_workers": 2,
            "decode_images_per_s": 123.5,
            "loader_images_per_s": 25.0,
            "bottleneck": "data",
        },
    }


def test_training_comparison_rounds_and_names_the_model_as_the_bottleneck():
    # (10 + 20) / 2 = 15; 12.34567 / 15 = 0.823045, 0.8230 to 4 decimals; 50 > 15: the model.
    fields = run_benchmark.training_comparison(12.34567, (10.0, 20.0), 50.0, 7.0, 0)

    assert fields["lightning_pipeline_images_per_s"] == 12.346
    assert fields["plain_pytorch_images_per_s"] == 15.0
    assert fields["lightning_to_plain_ratio"] == 0.823
    assert fields["data_path"]["bottleneck"] == "model"
