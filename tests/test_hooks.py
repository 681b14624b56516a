"""Project hooks: the console's node lines and the missing-input check."""

from __future__ import annotations

import logging

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from multiclass_segmentation import hooks
from multiclass_segmentation.errors import MissingInputError


def _identity(*values):
    return values[0]


# A project in miniature: validation reads raw files, eda and training read its
# manifest, training also eda's weights, evaluation the model.
REGISTRY = {
    "validation": Pipeline([node(_identity, "raw", "manifest", name="validate_node")]),
    "eda": Pipeline([node(_identity, "manifest", "weights", name="weights_node")]),
    "training": Pipeline(
        [
            node(_identity, ["manifest", "weights"], "model", name="train_node"),
            node(_identity, "model", "curves", name="curves_node"),
        ]
    ),
    "evaluation": Pipeline([node(_identity, ["model", "manifest"], "scores", name="score_node")]),
}
REGISTRY["__default__"] = sum(REGISTRY.values(), Pipeline([]))


def test_writers_of_a_missing_input_come_upstream_first():
    nothing = set()

    writers = hooks._writer_pipelines({"model"}, REGISTRY, lambda name: name in nothing)

    # training writes the model (the default pipeline too, but it is not the smallest);
    # training reads eda's weights and validation's manifest, eda the manifest.
    assert writers == ["validation", "eda", "training"]


def test_writers_stop_at_inputs_that_exist():
    there = {"raw", "manifest"}

    writers = hooks._writer_pipelines({"model"}, REGISTRY, lambda name: name in there)

    assert writers == ["eda", "training"]


def test_an_input_no_pipeline_writes_names_no_writer():
    assert hooks._writer_pipelines({"raw"}, REGISTRY, lambda name: False) == []


def test_the_hook_names_the_pipelines_to_run_first(monkeypatch):
    monkeypatch.setattr(hooks, "_every_pipeline", lambda selected: REGISTRY)
    catalog = DataCatalog({"manifest": MemoryDataset([1])})  # written by validation earlier
    run_params = {"env": "demo", "pipeline_names": ["evaluation"]}

    with pytest.raises(MissingInputError) as raised:
        hooks.UpstreamInputHook().before_pipeline_run(run_params, REGISTRY["evaluation"], catalog)

    message = str(raised.value)
    assert message.startswith("model: not there yet")
    assert "`kedro run --env demo --pipelines eda,training,evaluation`" in message


def test_the_hook_lets_a_run_with_its_inputs_start(monkeypatch):
    monkeypatch.setattr(hooks, "_every_pipeline", lambda selected: REGISTRY)
    catalog = DataCatalog({"manifest": MemoryDataset([1]), "model": MemoryDataset("m")})

    hooks.UpstreamInputHook().before_pipeline_run({}, REGISTRY["evaluation"], catalog)


def test_node_progress_says_each_node_and_the_run_time(monkeypatch, caplog):
    clock = iter([100.0, 175.4])  # the run's start and end
    monkeypatch.setattr(hooks.time, "monotonic", lambda: next(clock))
    progress = hooks.NodeProgressHook()
    pipeline = REGISTRY["training"]

    with caplog.at_level(logging.INFO, logger=hooks.logger.name):
        progress.before_pipeline_run(pipeline)
        for each in pipeline.nodes:
            progress.before_node_run(each)
        progress.after_pipeline_run()

    assert caplog.messages == ["[1/2] train_node", "[2/2] curves_node", "Ran 2 nodes in 1 min 15 s"]
