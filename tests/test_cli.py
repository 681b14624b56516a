"""The command line: user errors end with their message alone, bugs keep their traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kedro.io.core import DatasetError

from multiclass_segmentation import cli
from multiclass_segmentation.commands.synthetic import (
    SyntheticDatasetParams,
    write_synthetic_dataset,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.errors import BadInputError, UserError
from multiclass_segmentation.pipelines.data_validation.nodes import DataValidationError
from tests.conftest import copy_project

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("#4d4d4d", "#f28e2b", "#4e79a7")
)
ENTRY_POINTS = {
    "kedro run": [sys.executable, "-m", "kedro", "run"],
    "python -m multiclass_segmentation": [sys.executable, "-m", "multiclass_segmentation"],
}
# Rich's traceback box, and Python's own traceback.
TRACEBACK_MARKS = ("Traceback", "╭", "╰", "│")


@pytest.fixture(scope="module")
def broken_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small dataset whose one mask is not an image: data validation fails with an error."""
    root = tmp_path_factory.mktemp("broken") / "dataset"
    settings = SyntheticDatasetParams(counts={"train": 4, "val": 2, "test": 2}, image_size=64)
    write_synthetic_dataset(root, settings, CLASSES)
    broken = sorted((root / "labels" / "train").iterdir())[0]
    broken.write_bytes(b"not a png")
    return root


def _run(
    project: Path, entry_point: str, *args: str, env: str | None = "demo"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ENTRY_POINTS[entry_point], *(["--env", env] if env else []), *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _assert_message_alone(result: subprocess.CompletedProcess, *message: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert not any(mark in output for mark in TRACEBACK_MARKS), output
    # The output ends with the message, after Kedro's log lines.
    assert "Error: " in result.stderr, output
    ending = result.stderr[result.stderr.index("Error: ") :]
    for part in message:
        assert part in ending, output


@pytest.mark.slow
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_failed_data_validation_ends_with_its_message_alone(
    tmp_path: Path, broken_dataset: Path, entry_point: str
):
    project = copy_project(tmp_path)
    result = _run(
        project,
        entry_point,
        "--pipelines",
        "data_validation",
        "--params",
        f"dataset.root={broken_dataset}",
    )
    _assert_message_alone(result, "unreadable_file")


@pytest.mark.slow
def test_a_missing_dataset_folder_and_a_bad_parameter_end_with_their_message_alone(
    tmp_path: Path,
):
    # The default environment: the demo's would generate its synthetic data there.
    project = copy_project(tmp_path)
    missing = tmp_path / "no-such-dataset"
    result = _run(
        project,
        "kedro run",
        *("--pipelines", "data_validation", "--params", f"dataset.root={missing}"),
        env=None,
    )
    _assert_message_alone(result, f"The dataset folder {missing} (dataset.root) does not exist")
    result = _run(
        project, "kedro run", "--pipelines", "training", "--params", "training.batch_size=0"
    )
    _assert_message_alone(result, "Parameter validation failed", "batch_size")


@pytest.mark.slow
def test_a_pipeline_run_before_the_ones_that_feed_it_names_them_in_one_line(tmp_path: Path):
    project = copy_project(tmp_path)  # a fresh clone: nothing validated, no EDA yet

    result = _run(project, "kedro run", "--pipelines", "sweep")

    _assert_message_alone(
        result,
        "suggested_class_weights, validated_train, validated_val: not there yet",
        "Run `kedro run --env demo --pipelines data_validation,eda,sweep`",
    )


def _command(error: Exception) -> click.Command:
    def fail(**kwargs) -> None:
        raise error

    return click.Command("run", callback=cli._user_errors_as_messages(fail))


@pytest.mark.parametrize(
    "error",
    [
        DataValidationError("2 checks failed"),
        BadInputError("training.epochs is 3 but ..."),
        # Kedro wraps what a dataset raises: the user error is its cause.
        DatasetError("raw_images_train: failed"),
    ],
    ids=["DataValidationError", "BadInputError", "wrapped"],
)
def test_user_errors_exit_1_with_their_message(error: Exception):
    if isinstance(error, DatasetError):
        error.__cause__ = UserError("2 checks failed")
    result = CliRunner().invoke(_command(error))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == f"Error: {error.__cause__ or error}"


@pytest.mark.parametrize(
    "error", [ValueError("a bug"), KeyError("a bug"), DatasetError("a bug")], ids=repr
)
def test_other_errors_keep_their_traceback(error: Exception):
    result = CliRunner().invoke(_command(error))
    assert result.exception is error


def test_the_project_run_command_is_kedros_with_the_same_options():
    from kedro.framework.cli.project import run as kedro_run
    from kedro.framework.cli.utils import find_run_command

    assert find_run_command("multiclass_segmentation") is cli.run
    assert [p.name for p in cli.run.params] == [p.name for p in kedro_run.params]
