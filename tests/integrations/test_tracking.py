"""ClearML tracking hook: offline sessions of real runs, fallback, failures, helpers."""

from __future__ import annotations

import functools
import json
import logging
import math
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest
from clearml.config.cache import SessionCache

from multiclass_segmentation import hooks
from multiclass_segmentation.integrations import clearml_tasks, tracking
from multiclass_segmentation.integrations.clearml_tasks import (
    keep_offline_archive,
    keys_configured,
    server_reachable,
    training_scalars,
    validation_scalars,
)
from multiclass_segmentation.integrations.tracking import (
    ClearMLTrackingHook,
    metrics_single_values,
    remote_command,
)
from tests.conftest import copy_project, run_kedro, validated_demo_project

TRACKING_LOGGER = "multiclass_segmentation.integrations.tracking"


def _clearml_into(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ClearML's cache (offline sessions) and session file under folder, not in ~/.clearml."""
    monkeypatch.setenv("CLEARML_CACHE_DIR", str(folder / "cache"))
    monkeypatch.setattr(SessionCache, "SESSION_CACHE_FOLDER", str(folder))
    monkeypatch.setenv("CLEARML_OFFLINE_MODE", "1")
    return folder / "cache" / "offline"


def _enable_tracking(project: Path, env: str = "demo", **settings: object) -> None:
    """Tracking on in the env, whatever conf/base says (the other tests may turn it off)."""
    lines = ["tracking:", "  enabled: true"] + [f"  {k}: {v}" for k, v in settings.items()]
    (project / "conf" / env / "parameters_tracking.yml").write_text("\n".join(lines) + "\n")


def _with_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """ClearML keys as users keep them outside Kedro's configuration."""
    monkeypatch.setenv("CLEARML_API_ACCESS_KEY", "test-key")
    monkeypatch.setenv("CLEARML_API_SECRET_KEY", "test-secret")


@pytest.fixture
def clearml_offline_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _clearml_into(tmp_path / "clearml", monkeypatch)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


def _recording_logger() -> tuple[logging.Logger, _Records]:
    """A logger outside logging's registry, which Kedro's logging setup resets on every run."""
    records = _Records()
    recording = logging.Logger(TRACKING_LOGGER, level=logging.DEBUG)
    recording.addHandler(records)
    return recording, records


@pytest.fixture
def tracking_log(monkeypatch: pytest.MonkeyPatch) -> _Records:
    """The log records of the tracking hook and of the ClearML task helpers."""
    recording, records = _recording_logger()
    monkeypatch.setattr(tracking, "logger", recording)
    monkeypatch.setattr(clearml_tasks, "logger", recording)
    return records


def _single_archive(offline_dir: Path) -> Path:
    archives = sorted(offline_dir.glob("*.zip"))
    assert len(archives) == 1, archives
    return archives[0]


def _task_json(archive: Path) -> dict:
    with zipfile.ZipFile(archive) as zf:
        return json.loads(zf.read("task.json"))


def _events(archive: Path, name: str) -> list[dict]:
    """The events of metrics.jsonl or log.jsonl: one JSON list per line."""
    with zipfile.ZipFile(archive) as zf:
        if name not in zf.namelist():
            return []
        lines = zf.read(name).decode().splitlines()
    return [event for line in lines if line.strip() for event in json.loads(line)]


def _latest_json(folder: Path) -> object:
    version = sorted(p for p in folder.iterdir() if p.is_dir())[-1]
    return json.loads((version / folder.name).read_text())


@pytest.fixture(scope="module")
def tracked_demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One tracked `kedro run --env demo` (every pipeline) and its offline archive."""
    root = tmp_path_factory.mktemp("tracked_demo")
    project = copy_project(root)
    _enable_tracking(project)
    recording, records = _recording_logger()
    with pytest.MonkeyPatch.context() as monkeypatch:
        offline_dir = _clearml_into(root / "clearml", monkeypatch)
        monkeypatch.setattr(tracking, "logger", recording)
        monkeypatch.setattr(clearml_tasks, "logger", recording)
        run_kedro(project, env="demo")
    archive = _single_archive(offline_dir)
    return {
        "project": project,
        "archive": archive,
        "task": _task_json(archive),
        "events": _events(archive, "metrics.jsonl"),
        "infos": records.messages(logging.INFO),
        "offline_dir_entries": sorted(offline_dir.iterdir()),
    }


@pytest.mark.slow
def test_tracked_demo_run_names_the_task_and_keeps_the_parameters(tracked_demo: dict):
    task = tracked_demo["task"]
    # A run that trains is named after its hypothesis.
    assert task["name"] == "demo"
    assert task["project_name"] == "multiclass_segmentation"
    parameters = task["hyperparams"]["parameters"]
    assert parameters["training/epochs"]["value"] == "2"
    assert parameters["training/model/architecture"]["value"] == "Unet"
    assert parameters["hypothesis"]["value"] == "demo"
    assert task["hyperparams"]["kedro run"]["env"]["value"] == "demo"


@pytest.mark.slow
def test_tracked_demo_run_reports_every_epoch_of_the_training_history(tracked_demo: dict):
    history = _latest_json(
        tracked_demo["project"] / "data/08_reporting/demo/training_history_demo.json"
    )
    scalars = {
        (e["metric"], e["variant"], e["iter"]): e["value"]
        for e in tracked_demo["events"]
        if e["type"] == "training_stats_scalar"
    }
    for epoch in history:
        step = epoch["epoch"]
        assert scalars[("val mDice", "all classes", step)] == pytest.approx(epoch["val_mdice"])
        assert scalars[("val mDice", "foreground", step)] == pytest.approx(epoch["val_fg_mdice"])
        assert scalars[("train loss", "train", step)] == pytest.approx(epoch["train_loss"])
        assert scalars[("learning rate", "lr", step)] == pytest.approx(epoch["lr"])
        for name, dice in epoch["val_dice"].items():
            if dice is not None and math.isfinite(dice):
                assert scalars[("val Dice", name, step)] == pytest.approx(dice)
    assert sorted({step for (metric, _, step) in scalars if metric == "val mDice"}) == [1, 2]


@pytest.mark.slow
def test_tracked_demo_run_keeps_figures_metrics_and_the_model(tracked_demo: dict):
    project, archive, task = tracked_demo["project"], tracked_demo["archive"], tracked_demo["task"]
    images = {e["metric"] for e in tracked_demo["events"] if e["type"] == "training_debug_image"}
    saved_figures = {
        name.removesuffix("_figure")
        for name in ("learning_curves_hypothesis_figure", "eda_samples_figure")
    }
    assert saved_figures <= images

    metrics = _latest_json(project / "data/08_reporting/demo/metrics.json")
    summary = {
        e["variant"]: e["value"]
        for e in tracked_demo["events"]
        if e["type"] == "training_stats_scalar" and e["metric"] == "Summary"
    }
    assert summary["test mDice"] == pytest.approx(metrics["test"]["mdice"])
    assert summary["val mDice"] == pytest.approx(metrics["val"]["mdice"])

    artifacts = {a["key"]: a for a in task["execution"]["artifacts"]}
    assert set(artifacts) >= {"metrics", "trained_model"}
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        model_zip = next(n for n in names if n.endswith("/artifacts/trained_model/demo.zip"))
        metrics_json = next(n for n in names if n.endswith("/artifacts/metrics/metrics.json"))
        assert json.loads(zf.read(metrics_json))["test"]["mdice"] == metrics["test"]["mdice"]
        with zf.open(model_zip) as model_file, zipfile.ZipFile(model_file) as model:
            model_files = {Path(n).name for n in model.namelist()}
    assert {tracking.WEIGHTS_FILE, "config.json", "segmenter.json"} <= model_files


@pytest.mark.slow
def test_tracked_demo_run_logs_the_archive_and_keeps_only_it(tracked_demo: dict):
    archive = tracked_demo["archive"]
    assert any(str(archive) in message for message in tracked_demo["infos"])
    assert tracked_demo["offline_dir_entries"] == [archive]


def test_keep_offline_archive_keeps_the_folder_when_there_is_no_archive(tmp_path: Path):
    session_folder = tmp_path / "offline-task"
    session_folder.mkdir()
    (session_folder / "task.json").write_text("{}")

    assert keep_offline_archive(session_folder) is None
    assert session_folder.is_dir()
    with zipfile.ZipFile(tmp_path / "offline-task.zip", "w") as archive:
        archive.write(session_folder / "task.json", "task.json")
    assert keep_offline_archive(session_folder) == tmp_path / "offline-task.zip"
    assert not session_folder.exists()


@pytest.fixture
def without_input_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a training run without validated data start, so it fails at its first load
    while tracked: the input check (hooks.UpstreamInputHook) would refuse it before the
    tracking hook starts a task."""
    check = hooks.UpstreamInputHook.before_pipeline_run

    @functools.wraps(check)  # keeps the hook marker
    def no_check(self, *args, **kwargs) -> None:
        return None

    monkeypatch.setattr(hooks.UpstreamInputHook, "before_pipeline_run", no_check)


@pytest.fixture
def silent_server(silent_port: int) -> str:
    """The URL of a host that takes no connection, so connects hang."""
    return f"http://127.0.0.1:{silent_port}"


@pytest.mark.usefixtures("without_input_check")
def test_unreachable_server_falls_back_to_offline_within_the_timeout(
    project_copy: Path,
    clearml_offline_dir: Path,
    tracking_log: _Records,
    silent_server: str,
    monkeypatch,
):
    monkeypatch.delenv("CLEARML_OFFLINE_MODE")
    _enable_tracking(project_copy, api_host=silent_server, connect_timeout_s=2)
    _with_keys(monkeypatch)
    start_seconds = []
    start_task = ClearMLTrackingHook.before_pipeline_run

    @functools.wraps(start_task)
    def timed_start(self, *args, **kwargs):
        started = time.perf_counter()
        start_task(self, *args, **kwargs)
        start_seconds.append(time.perf_counter() - started)

    monkeypatch.setattr(ClearMLTrackingHook, "before_pipeline_run", timed_start)

    with pytest.raises(Exception, match="validated_train"):
        run_kedro(project_copy, env="demo", pipeline="training")

    # The 2 s probe, then an offline task; the SDK alone would retry for minutes.
    assert len(start_seconds) == 1
    assert start_seconds[0] < 60
    warnings = tracking_log.messages(logging.WARNING)
    assert any(silent_server in w and "did not answer" in w for w in warnings)
    assert _task_json(_single_archive(clearml_offline_dir))["name"] == "demo"


class _NotClearML(BaseHTTPRequestHandler):
    """A web server that answers every request with 404, as a wrong host would."""

    def _not_found(self) -> None:
        self.send_error(404)

    do_GET = do_POST = _not_found

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def not_clearml_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Its URL; ClearML's set_credentials writes os.environ and Session, undone afterwards."""
    from clearml.backend_api.session import Session

    for kind in ("API_HOST", "WEB_HOST", "FILES_HOST", "API_ACCESS_KEY", "API_SECRET_KEY"):
        for prefix in ("CLEARML", "TRAINS"):
            monkeypatch.setenv(f"{prefix}_{kind}", "")
            monkeypatch.delenv(f"{prefix}_{kind}")
    for name in ("default_host", "default_web", "default_files", "default_key", "default_secret"):
        monkeypatch.setattr(Session, name, getattr(Session, name))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotClearML)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("without_input_check")
def test_server_that_refuses_the_login_leaves_the_run_tracked_offline(
    project_copy: Path,
    clearml_offline_dir: Path,
    tracking_log: _Records,
    not_clearml_server: str,
    monkeypatch,
):
    monkeypatch.delenv("CLEARML_OFFLINE_MODE")
    _enable_tracking(project_copy, api_host=not_clearml_server)
    _with_keys(monkeypatch)
    with pytest.raises(Exception, match="validated_train"):
        run_kedro(project_copy, env="demo", pipeline="training")

    warnings = tracking_log.messages(logging.WARNING)
    assert any(not_clearml_server in w and "tracked offline" in w for w in warnings)
    assert _task_json(_single_archive(clearml_offline_dir))["name"] == "demo"


@pytest.mark.usefixtures("without_input_check")
def test_failed_run_is_tagged_failed_with_the_error_in_its_log(
    project_copy: Path, clearml_offline_dir: Path, tracking_log: _Records
):
    _enable_tracking(project_copy)
    # No validated data in a fresh copy: the training pipeline fails on its first load.
    with pytest.raises(Exception, match="validated_train"):
        run_kedro(project_copy, env="demo", pipeline="training")

    archive = _single_archive(clearml_offline_dir)
    assert tracking.FAILED_TAG in _task_json(archive)["tags"]
    errors = [e["msg"] for e in _events(archive, "log.jsonl") if e["level"] == "error"]
    assert any("Run failed" in msg and "validated_train" in msg for msg in errors)
    assert tracking_log.messages(logging.WARNING) == []


@pytest.mark.slow
@pytest.mark.usefixtures("without_input_check")
def test_failed_online_run_is_marked_failed_after_close(project_copy: Path, monkeypatch):
    online_task = mock.MagicMock()
    online_task.is_offline.return_value = False
    monkeypatch.setattr(tracking, "start_task", lambda *args, **kwargs: online_task)
    _enable_tracking(project_copy)

    with pytest.raises(Exception, match="validated_train"):
        run_kedro(project_copy, env="demo", pipeline="training")

    calls = [name for name, _, _ in online_task.method_calls]
    assert calls.index("close") < calls.index("mark_failed")
    _, _, kwargs = online_task.method_calls[calls.index("mark_failed")]
    assert kwargs["force"] is True
    assert "validated_train" in kwargs["status_reason"]


def test_clearml_error_is_a_warning_and_the_run_completes(
    project_copy: Path, clearml_offline_dir: Path, tracking_log: _Records, monkeypatch
):
    from clearml import Task

    def broken_connect(*args: object, **kwargs: object) -> None:
        raise RuntimeError("ClearML is broken")

    monkeypatch.setattr(Task, "connect", broken_connect)
    _enable_tracking(project_copy)

    run_kedro(project_copy, env="demo", pipeline="data_validation")

    assert (project_copy / "data/08_reporting/demo/data_validation.json").is_file()
    warnings = tracking_log.messages(logging.WARNING)
    assert any("tracking is off" in w and "ClearML is broken" in w for w in warnings)


def test_disabled_tracking_creates_no_task(project_copy: Path, clearml_offline_dir: Path):
    (project_copy / "conf/demo/parameters_tracking.yml").write_text("tracking: {enabled: false}\n")
    with pytest.raises(Exception, match="validated_train"):
        run_kedro(project_copy, env="demo", pipeline="training")
    assert not clearml_offline_dir.exists()


def test_server_reachable_tells_a_listening_port_from_a_closed_one():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert server_reachable(f"http://127.0.0.1:{port}", timeout_s=2)
    started = time.perf_counter()
    assert not server_reachable(f"http://127.0.0.1:{port}", timeout_s=60)
    # A refused connection answers at once, without waiting for the timeout (half of it
    # leaves room for any load on the machine).
    assert time.perf_counter() - started < 30


def test_keys_come_from_clearml_variables_or_clearml_conf(monkeypatch):
    from clearml.config import config_obj

    for name in ("CLEARML_API_ACCESS_KEY", "CLEARML_API_SECRET_KEY", "CLEARML_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    conf = {}
    monkeypatch.setattr(config_obj, "get", lambda key, default=None: conf.get(key, default))
    assert not keys_configured()
    monkeypatch.setenv("CLEARML_API_ACCESS_KEY", "env-key")
    assert not keys_configured()  # a secret is needed too
    monkeypatch.setenv("CLEARML_API_SECRET_KEY", "env-secret")
    assert keys_configured()
    monkeypatch.delenv("CLEARML_API_ACCESS_KEY")
    monkeypatch.delenv("CLEARML_API_SECRET_KEY")
    conf.update({"api.credentials.access_key": "k", "api.credentials.secret_key": "s"})
    assert keys_configured()


def test_epoch_scalars_skip_missing_and_non_finite_values():
    epoch = {"epoch": 1, "train_loss": 1.5, "lr": float("inf"), "seconds": 3.0}
    assert {(t, s): v for t, s, v in training_scalars(epoch)} == {
        ("train loss", "train"): 1.5,
        ("epoch time", "seconds"): 3.0,
    }
    scores = {"mdice": None, "fg_mdice": float("nan"), "dice": {"background": 0.9, "cat": None}}
    assert list(validation_scalars(scores)) == [("val Dice", "background", 0.9)]


def test_metrics_single_values_name_split_and_score():
    metrics = {"val": {"mdice": 0.7, "fg_mdice": 0.6}, "test": {"mdice": 0.65, "miou": None}}
    assert metrics_single_values(metrics) == {
        "val mDice": 0.7,
        "val foreground mDice": 0.6,
        "test mDice": 0.65,
    }


def _pipeline_with_tags(*tag_sets: set[str]):
    from kedro.pipeline import Node, Pipeline

    return Pipeline(
        [
            Node(lambda: None, None, f"out_{i}", name=f"n{i}", tags=tags)
            for i, tags in enumerate(tag_sets)
        ]
    )


def test_a_run_that_trains_or_evaluates_is_named_after_its_hypothesis():
    trains = _pipeline_with_tags({"training"}, {"evaluation"})
    explores = _pipeline_with_tags({"eda"})
    assert tracking.task_name(trains, ["training", "evaluation"], "unet_r34") == "unet_r34"
    assert tracking.task_name(explores, ["eda"], "base") == "eda (base)"
    assert tracking.task_name(explores, None, "base") == "__default__ (base)"


def test_only_an_evaluation_without_training_continues_the_training_task():
    assert tracking.continues_training_task(_pipeline_with_tags({"evaluation"}, {"reporting"}))
    assert not tracking.continues_training_task(_pipeline_with_tags({"training"}, {"evaluation"}))
    assert not tracking.continues_training_task(_pipeline_with_tags({"eda"}))


def test_remote_command_repeats_the_run_without_enqueueing_it_again():
    run_params = {
        "env": "unet_r34",
        "pipeline_names": ["training", "evaluation"],
        "runtime_params": {
            "tracking": {"execute_remotely": "gpu"},
            "training": {"epochs": 3},
            "dataset": {"root": "/data/my pets"},
        },
    }
    assert remote_command(run_params) == (
        "-m multiclass_segmentation --env unet_r34 --pipelines training,evaluation "
        "--params 'training.epochs=3,dataset.root=/data/my pets'"
    )
    assert remote_command({}) == "-m multiclass_segmentation --env base"


@pytest.mark.slow
def test_training_scalars_reach_the_task_while_it_trains(tracked_demo: dict):
    """Reported at each epoch's end and every few steps, before the node returned."""
    history_folder = tracked_demo["project"] / "data/08_reporting/demo/training_history_demo.json"
    saved_ms = next(history_folder.glob("*/training_history_demo.json")).stat().st_mtime * 1000
    scalars = [e for e in tracked_demo["events"] if e["type"] == "training_stats_scalar"]
    first_epoch = [e for e in scalars if e["metric"] == "val mDice" and e["iter"] == 1]
    assert first_epoch and all(e["timestamp"] < saved_ms for e in first_epoch)
    # The demo trains 2 batches an epoch for 2 epochs and reports the loss at every step.
    steps = [e for e in scalars if e["metric"] == clearml_tasks.STEP_LOSS_TITLE]
    assert [e["iter"] for e in steps] == [1, 2, 3, 4]
    assert all(e["timestamp"] < saved_ms for e in steps)


@pytest.mark.slow
def test_tracked_demo_run_records_console_and_code_state(tracked_demo: dict):
    task = tracked_demo["task"]
    # The copied project is no git repository: ClearML records the entry point still.
    assert task["script"]["entry_point"]
    console = " ".join(e["msg"] for e in _events(tracked_demo["archive"], "log.jsonl"))
    assert "train_model_node" in console


def _edit_connected_parameters(monkeypatch: pytest.MonkeyPatch, edit) -> None:
    """Task.connect answers as for a task cloned and edited in the UI, run by an agent."""
    from clearml import Task

    connect = Task.connect

    def connect_edited(self, mutable, name=None):
        connected = connect(self, mutable, name=name)
        if name != tracking.PARAMETERS_SECTION:
            return connected
        edited = json.loads(json.dumps(connected))
        edit(edited)
        return edited

    monkeypatch.setattr(Task, "connect", connect_edited)


@pytest.mark.slow
def test_parameters_edited_in_the_task_are_the_ones_the_run_uses(
    tmp_path: Path, clearml_offline_dir: Path, monkeypatch
):
    project = validated_demo_project(tmp_path)
    _enable_tracking(project)
    _edit_connected_parameters(monkeypatch, lambda p: p["training"].update(epochs=1))

    run_kedro(project, env="demo", pipeline="training")

    history = _latest_json(project / "data/08_reporting/demo/training_history_demo.json")
    assert [epoch["epoch"] for epoch in history] == [1]  # conf/demo says 2


@pytest.mark.usefixtures("without_input_check")
def test_edited_parameters_that_fail_validation_stop_the_run(
    project_copy: Path, clearml_offline_dir: Path, monkeypatch
):
    from kedro.validation import ParameterValidationError

    _enable_tracking(project_copy)
    _edit_connected_parameters(monkeypatch, lambda p: p["training"].update(batch_size=0))
    with pytest.raises(ParameterValidationError, match="batch_size"):
        run_kedro(project_copy, env="demo", pipeline="training")


@pytest.mark.slow
def test_execute_remotely_without_a_server_says_what_is_missing(
    project_copy: Path, clearml_offline_dir: Path
):
    from multiclass_segmentation.errors import BadInputError

    _enable_tracking(project_copy, execute_remotely="gpu")
    with pytest.raises(BadInputError, match="execute_remotely=gpu needs a ClearML server"):
        run_kedro(project_copy, env="demo", pipeline="data_validation")
    # Nothing ran here.
    assert not (project_copy / "data/08_reporting/demo/data_validation.json").exists()


def test_execute_remotely_enqueues_the_run_with_the_command_an_agent_repeats(
    project_copy: Path, monkeypatch
):
    online_task = mock.MagicMock()
    online_task.is_offline.return_value = False
    online_task.connect.side_effect = lambda mutable, name=None: mutable
    online_task.execute_remotely.side_effect = SystemExit(0)  # as ClearML leaves the process
    monkeypatch.setattr(tracking, "start_task", lambda *args, **kwargs: online_task)
    _enable_tracking(project_copy)

    with pytest.raises(SystemExit):
        run_kedro(
            project_copy,
            env="demo",
            pipeline="data_validation",
            params={"tracking": {"execute_remotely": "cpu-queue"}},
        )

    (packages,), _ = online_task.set_packages.call_args
    assert "kedro~=1.7" in packages and "lightning~=2.6" in packages
    assert not any("pytest" in package for package in packages)  # dev extra left out
    online_task.set_script.assert_called_once_with(
        working_dir="src",
        entry_point="-m multiclass_segmentation --env demo --pipelines data_validation",
    )
    online_task.execute_remotely.assert_called_once_with(
        queue_name="cpu-queue", clone=False, exit_process=True
    )
    assert not (project_copy / "data/08_reporting/demo/data_validation.json").exists()


@pytest.mark.usefixtures("without_input_check")
def test_an_evaluation_run_asks_to_continue_the_training_task(project_copy: Path, monkeypatch):
    started = []
    online_task = mock.MagicMock()
    online_task.connect.side_effect = lambda mutable, name=None: mutable

    def start(tracking_params, name, tags, continue_last=False):
        started.append((name, continue_last))
        return online_task

    monkeypatch.setattr(tracking, "start_task", start)
    _enable_tracking(project_copy)
    with pytest.raises(Exception, match="validated_val|trained_model"):
        run_kedro(project_copy, env="demo", pipeline="evaluation")
    assert started == [("demo", True)]


def test_tasks_of_their_own_are_one_archive_each_with_their_parameters(
    clearml_offline_dir: Path,
):
    from multiclass_segmentation.config.tracking import TrackingParams

    tracking_on = TrackingParams(console=False, resource_monitoring=False)
    for number in (0, 1):
        with clearml_tasks.task_of_its_own(
            tracking_on, f"trial {number}", ["sweep"], {"optimizer.lr": 0.001 * (number + 1)}
        ) as task:
            task.get_logger().report_single_value("val mDice", 0.5 + number / 10)
    tasks = sorted(
        (_task_json(a) for a in clearml_offline_dir.glob("*.zip")), key=lambda t: t["name"]
    )
    assert [t["name"] for t in tasks] == ["trial 0", "trial 1"]
    assert [t["hyperparams"]["parameters"]["optimizer.lr"]["value"] for t in tasks] == [
        "0.001",
        "0.002",
    ]
    with clearml_tasks.task_of_its_own(TrackingParams(enabled=False), "trial 2", [], {}) as task:
        assert task is None


def test_a_study_run_trains_inside_a_task_named_after_its_namespace(clearml_offline_dir: Path):
    from clearml import Task
    from kedro.pipeline import Node

    from multiclass_segmentation.config.tracking import TrackingParams
    from multiclass_segmentation.config.training import TrainingParams

    hook = ClearMLTrackingHook()
    hook._tracking = TrackingParams(console=False, resource_monitoring=False)
    train = Node(
        func=lambda training: None,
        inputs="params:study_runs.base.seed_7.training",
        outputs=None,
        name="train_model_node",
        namespace="base.seed_7",
        tags=tracking.NAMESPACE_TASK_TAG,
    )
    training = TrainingParams(seed=7, checkpoint_dir="checkpoints/base/seed_7")
    hook.before_node_run(train, {"params:study_runs.base.seed_7.training": training})
    assert Task.current_task().name == "base.seed_7"
    hook.after_node_run(train)

    (task,) = [_task_json(archive) for archive in clearml_offline_dir.glob("*.zip")]
    assert task["name"] == "base.seed_7"
    assert set(task["tags"]) == {"study", "base"}
    connected = task["hyperparams"]["parameters"]
    assert connected["study_runs.base.seed_7.training/seed"]["value"] == "7"
