"""kedro-viz: the site `kedro viz build` exports draws every pipeline's nodes in a real browser."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
KEDRO = Path(sys.executable).with_name("kedro")
# The layers of the default pipeline, top to bottom, as the catalog assigns them.
DEFAULT_LAYERS = ["raw", "primary", "feature", "model_input", "models", "reporting"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


class _Flowchart(HTMLParser):
    """The task nodes, collapsed namespaces and layer names that kedro-viz drew in its flowchart."""

    def __init__(self) -> None:
        super().__init__()
        self.task_nodes: set[str] = set()
        self.namespaces: set[str] = set()
        self.layers: list[str] = []
        self._in_layer_name = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "g" and "pipeline-node--task" in classes:
            self.task_nodes.add(attributes["data-node-fullname"] or "")
        if tag == "g" and "pipeline-node--modularPipeline" in classes:
            self.namespaces.add(attributes["data-node-fullname"] or "")
        self._in_layer_name = tag == "li" and "pipeline-layer-name" in classes

    def handle_data(self, data: str) -> None:
        if self._in_layer_name and data.strip():
            self.layers.append(data.strip())
            self._in_layer_name = False


def _run_in_own_group(command: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
    """Runs a command in a new process group and kills the whole group when it is done."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{command[0]} ran over {timeout} s:\n{output[-3000:]}")
    finally:
        # Helpers (chromium's zygote and renderers) may outlive the main process.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, output


def _rendered(url: str, profile: Path) -> _Flowchart:
    """The flowchart that headless Chromium renders at url, once the page's scripts ran."""
    returncode, dom = _run_in_own_group(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        cwd=profile.parent,
        timeout=120,
    )
    assert returncode == 0, dom[-3000:]
    flowchart = _Flowchart()
    flowchart.feed(dom)
    return flowchart


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The test output stays free of one line per request."""


@pytest.fixture
def served_site(project_copy: Path) -> Iterator[str]:
    """`kedro viz build` of the project copy, served on a free local port."""
    returncode, output = _run_in_own_group([str(KEDRO), "viz", "build"], project_copy, 300)
    assert returncode == 0, output[-3000:]
    assert "circular dependency" not in output, output[-3000:]
    site = project_copy / "build"
    assert (site / "index.html").is_file()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _registered_pipelines(project: Path) -> dict[str, set[str]]:
    """Node names of every registered pipeline, as pipeline_registry.py builds them."""
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    return {name: {node.name for node in pipeline.nodes} for name, pipeline in pipelines.items()}


def test_built_site_draws_the_nodes_of_every_pipeline_on_its_layers(
    served_site: str, project_copy: Path, tmp_path: Path
):
    registered = _registered_pipelines(project_copy)
    default = _rendered(served_site, tmp_path / "chromium")
    assert default.task_nodes == registered["__default__"]
    assert default.layers == DEFAULT_LAYERS

    assert {"data_validation", "eda", "training", "evaluation", "reporting"} <= registered.keys()
    for name, nodes in sorted(registered.items()):
        if nodes <= registered["__default__"]:
            drawn = default.task_nodes
        else:  # a pipeline outside the default one is drawn in its own view
            view = _rendered(f"{served_site}?pid={name}", tmp_path / "chromium")
            drawn = _drawn_nodes(view, nodes)
        assert nodes <= drawn, f"pipeline {name}: {sorted(nodes - drawn)} are not drawn"


def _drawn_nodes(flowchart: _Flowchart, nodes: set[str]) -> set[str]:
    """The nodes drawn as themselves or inside the collapsed group of their top namespace."""
    return flowchart.task_nodes | {
        node for node in nodes if "." in node and node.split(".")[0] in flowchart.namespaces
    }


def test_the_study_draws_each_hypothesis_as_one_collapsed_group(
    served_site: str, project_copy: Path, tmp_path: Path
):
    study_nodes = _registered_pipelines(project_copy)["study"]
    top_namespaces = {node.split(".")[0] for node in study_nodes if "." in node}
    drawn = _rendered(f"{served_site}?pid=study", tmp_path / "chromium")
    # base's study lists base and focal_dice, and the base and mixed ensembles.
    assert (
        drawn.namespaces
        == top_namespaces
        == {
            "base",
            "focal_dice",
            "base_ensemble",
            "mixed_ensemble",
        }
    )
    assert not any("." in node for node in drawn.task_nodes)
