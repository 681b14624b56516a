"""The scale benchmark's pure parts: the memory sampler, failure reporting, ratios and table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import load_benchmark_script

scale = load_benchmark_script("scale")

# A child that starts a grandchild holding 200 MB for a second: only a sampler that
# walks the whole tree sees it, as it must see DataLoader workers.
GRANDCHILD_ALLOCATES = (
    "import subprocess, sys; subprocess.run([sys.executable, '-c', "
    "\"import time; block = b'x' * (200 * 2**20); time.sleep(1.0)\"], check=True)"
)


def test_tree_sampler_sees_a_grandchilds_memory(tmp_path: Path):
    measured = scale.run_measured(
        [sys.executable, "-c", GRANDCHILD_ALLOCATES], tmp_path, tmp_path / "logs" / "alloc"
    )
    assert measured.returncode == 0
    assert measured.peak_tree_rss_mb >= 150
    # wait4 reports the larger of the child's peak and its waited-for children's.
    assert measured.main_max_rss_mb >= 150
    assert 1.0 <= measured.wall_s < 30


def test_failed_command_raises_with_its_stderr_tail(tmp_path: Path):
    command = [sys.executable, "-c", "import sys; sys.stderr.write('boom: bad input'); sys.exit(3)"]
    with pytest.raises(scale.StageFailed, match=r"(?s)exited with 3.*boom: bad input"):
        scale.run_measured(command, tmp_path, tmp_path / "logs" / "fail")


def _run(wall: float, tree: float, main: float, primary: float) -> dict:
    entry = {
        "wall_s": wall,
        "peak_tree_rss_mb": tree,
        "main_max_rss_mb": main,
        "returncode": 0,
        "primary_mb": primary,
    }
    return {"stages": {"eda": entry}}


def test_ratios_and_table_on_hand_made_numbers():
    runs = {600: _run(10.0, 1000.0, 1100.0, 600.0), 2400: _run(50.0, 1200.0, 2200.0, 2400.0)}

    found = scale.ratios(runs, ["eda"])
    assert found["sizes"] == [600, 2400]
    assert found["size_ratio"] == 4.0
    assert found["eda"] == {
        "wall": 5.0,
        "tree_rss": 1.2,
        "main_rss": 2.0,
        "main_rss_mb_per_100_images": pytest.approx(1100 * 100 / 1800, abs=0.05),
    }
    table = scale.markdown_table(runs, ["eda"])
    row = next(line for line in table.splitlines() if line.startswith("| eda"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells == [
        "eda",
        "10.0",
        "1000",
        "1100",
        "600.0",
        "50.0",
        "1200",
        "2200",
        "2400.0",
        "5.00 over",  # slower than linear: 4x the images
        "1.20",  # within 1.3
        "2.00 over",
        "+61.1",
    ]


def test_one_size_has_no_ratios():
    runs = {10000: _run(100.0, 900.0, 950.0, 10000.0)}
    assert scale.ratios(runs, ["eda"]) == {}
    assert "ratio" not in scale.markdown_table(runs, ["eda"])


def test_sizes_and_stages():
    assert scale.split_counts(600) == (400, 100, 100)
    assert sum(scale.split_counts(10000)) == 10000
    assert scale._check_stages("eda,data_validation") == ["data_validation", "eda"]
    with pytest.raises(SystemExit, match="training"):
        scale._check_stages("data_validation,evaluation")
    with pytest.raises(SystemExit, match="eda"):  # its suggested class weights
        scale._check_stages("data_validation,training,evaluation")
    with pytest.raises(SystemExit, match="unknown"):
        scale._check_stages("data_validation,reporting")
