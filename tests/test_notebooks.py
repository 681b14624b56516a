"""The notebooks of notebooks/: each runs without error on a demo run, and none is committed
with outputs.

The notebooks read only through the Kedro catalog of the environment in KEDRO_ENV, so here
they read a project copy where `kedro run --env demo` has run, then again after the demo's
study for the notebook that shows it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import PROJECT_ROOT, copy_project, run_kedro

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
# The notebook that shows the study, with and without one.
STUDY_NOTEBOOK = "training_and_study.ipynb"
CELL_TIMEOUT_S = 300


def _execute(notebook: Path, project: Path) -> nbformat.NotebookNode:
    """Runs every cell in a fresh kernel whose working folder is the project copy; fails with
    the failing cell's source and traceback."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(project)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{notebook.name} failed:\n{error}", pytrace=False)
    return nb


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def _images(nb: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy after `kedro run --env demo`, KEDRO_ENV=demo for the notebooks' kernels."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEDRO_ENV", "demo")
        project = copy_project(tmp_path_factory.mktemp("notebooks"))
        run_kedro(project, env="demo")
        yield project


def test_the_notebooks_are_there():
    assert {path.name for path in NOTEBOOKS} >= {
        "data_validation_and_eda.ipynb",
        STUDY_NOTEBOOK,
        "error_analysis.ipynb",
        "inference.ipynb",
    }


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_are_committed_without_outputs(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    with_outputs = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not with_outputs, (
        f"{notebook.name}: cells {with_outputs} have outputs or execution counts; clear them "
        "before committing (Jupyter: Edit > Clear Outputs of All Cells)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_on_the_demo(notebook: Path, demo_project: Path):
    nb = _execute(notebook, demo_project)
    # Each notebook shows at least one figure, and none hides an error in its output.
    assert _images(nb) >= 1
    assert not [
        output
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if notebook.name == STUDY_NOTEBOOK:
        assert "No study run yet" in _stdout(nb)


@pytest.mark.slow
def test_study_notebook_shows_the_demo_study(demo_project: Path):
    run_kedro(demo_project, env="demo", pipeline="study", only_missing_outputs=True)
    nb = _execute(PROJECT_ROOT / "notebooks" / STUDY_NOTEBOOK, demo_project)
    text = _stdout(nb)
    assert "No study run yet" not in text
    # Both hypotheses of conf/demo/parameters_study.yml and its ensemble are in the table.
    tables = "".join(
        output.get("data", {}).get("text/plain", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )
    assert all(name in tables for name in ("base", "demo_focal_dice", "demo_ensemble"))
    # Learning curves, every hypothesis's curves, the study's seeds.
    assert _images(nb) >= 3
