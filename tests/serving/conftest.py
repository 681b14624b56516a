"""The service started for real: uvicorn on a free local port, in a thread of the test process."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import TestTimeAugmentation
from multiclass_segmentation.serving.app import ServiceSettings, create_app
from multiclass_segmentation.serving.model import ModelChoice

# conf/base/parameters.yml's classes and inference.tta.
CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("#4d4d4d", "#f28e2b", "#4e79a7")
)
TTA = TestTimeAugmentation(hflip=True, scales=[1.0])
FIRST_VERSION = "2026-01-01T00.00.00.000Z"
SECOND_VERSION = "2026-01-02T00.00.00.000Z"


def settings_for(models: Path, **overrides) -> ServiceSettings:
    values = {
        # commands/serve exports in a subprocess (tests/commands/test_serve.py); here in-process.
        "choice": ModelChoice(path=models, export_in_subprocess=False),
        "classes": CLASSES,
        "tta": TTA,
        "reporting_dir": models.parent.parent / "08_reporting",
        **overrides,
    }
    return ServiceSettings(**values)


@contextmanager
def running_service(settings: ServiceSettings, wait_ready: bool = True) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1 (a free port, bound before it starts); yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_for(base, "/readyz" if wait_ready else "/healthz")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def wait_for(base: str, path: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + path, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{base}{path} did not answer 200 within {timeout_s} s")


def random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def encoded(image: Image.Image | np.ndarray, format: str = "PNG", **options) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def post_image(base: str, data: bytes, name: str = "image.png", **params) -> httpx.Response:
    return httpx.post(f"{base}/predict", params=params, files={"file": (name, data)}, timeout=60)


def mask_of(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.array(Image.open(io.BytesIO(response.content)))


def evaluation_metrics(model: dict, test_mdice: float) -> dict:
    """metrics.json of an evaluation of ``model`` (hypothesis base) in its schema's shape."""
    scores = {"mdice": test_mdice, "fg_mdice": None, "miou": None, "dice": {}}
    return {
        "schema_version": 1,
        "hypothesis": "base",
        "evaluated_at": "2026-01-01T01:00:00+00:00",
        "model": model,
        "tta": {"hflip": False, "scales": [1.0]},
        "target_mdice": 0.75,
        "val": scores,
        "test": scores,
    }
