"""conf/logging.yml: the console shows the project's lines and every warning; the log file
under logs/ keeps everything at INFO, Kedro's dataset lines and Lightning's included."""

from __future__ import annotations

import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, copy_project

LOGGERS = ("", "multiclass_segmentation", "lightning", "lightning.pytorch", "lightning.fabric")


@pytest.fixture
def project_logging(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """conf/logging.yml applied in an empty folder; every logger it touches restored after."""
    saved = {
        name: (logger.level, list(logger.handlers), logger.propagate)
        for name in LOGGERS
        for logger in [logging.getLogger(name)]
    }
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()  # as logs/.gitkeep keeps it in the project
    config = yaml.safe_load((PROJECT_ROOT / "conf" / "logging.yml").read_text())
    logging.config.dictConfig(config)
    yield tmp_path / "logs" / "multiclass_segmentation.log"
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def test_console_shows_the_project_and_warnings_the_file_keeps_everything(
    project_logging: Path, capsys
):
    logging.getLogger("multiclass_segmentation.core.module").info("Epoch 1/2: train loss 0.5")
    logging.getLogger("kedro.io.data_catalog").info("Loading data from validated_train")
    logging.getLogger("lightning.pytorch.utilities.rank_zero").info("GPU available: False")
    logging.getLogger("py.warnings").warning("a library deprecates something")

    console = capsys.readouterr()
    console = console.out + console.err
    assert "Epoch 1/2" in console
    assert "a library deprecates something" in console
    assert "Loading data" not in console
    assert "GPU available" not in console
    for handler in logging.getLogger().handlers:
        handler.flush()
    kept = project_logging.read_text()
    for line in ("Epoch 1/2", "Loading data from validated_train", "GPU available", "deprecates"):
        assert line in kept


@pytest.mark.slow
def test_a_run_shows_its_nodes_on_the_console_and_keeps_the_dataset_lines_in_the_file(
    tmp_path: Path,
):
    project = copy_project(tmp_path)
    env = {name: value for name, value in os.environ.items() if name != "KEDRO_LOGGING_CONFIG"}

    run = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "demo", "--pipelines", "data_validation"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    console = run.stdout + run.stderr
    # data_validation has 9 nodes (3 inspections, the report, its Markdown, the check,
    # 3 manifests).
    assert "[1/9] inspect_test_files_node" in console
    assert "Ran 9 nodes in" in console
    assert "Loading data from" not in console
    kept = (project / "logs" / "multiclass_segmentation.log").read_text()
    assert "Loading data from params:data_validation" in kept
    assert "[9/9] build_validated_val_node" in kept
