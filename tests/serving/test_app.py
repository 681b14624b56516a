"""The service started for real on a free port: every endpoint, every bad upload, the reload."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.pipelines.inference.builders import save_model, tiny_segmenter
from tests.serving.conftest import (
    FIRST_VERSION,
    SECOND_VERSION,
    encoded,
    evaluation_metrics,
    mask_of,
    post_image,
    random_rgb,
    running_service,
    settings_for,
)
from tests.serving.test_images import png_header_only

MAX_BYTES = 200_000
MAX_PIXELS = 300_000


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny model as the first version, and its evaluation's metrics."""
    project = tmp_path_factory.mktemp("app")
    save_model(project, FIRST_VERSION, tiny_segmenter("first"))
    metrics = project / "data/08_reporting/metrics.json/2026-01-01T01.00.00.000Z/metrics.json"
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps(evaluation_metrics({"name": "first"}, 0.5)))
    return project


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[str]:
    settings = settings_for(
        project / "data/06_models/base", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )
    with running_service(settings) as base:
        yield base


@pytest.mark.slow
def test_health_readiness_and_the_model(service: str):
    assert httpx.get(f"{service}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{service}/readyz").json() == {"status": "ready", "version": FIRST_VERSION}
    model = httpx.get(f"{service}/model").json()
    assert (model["hypothesis"], model["version"], model["runtime"]) == (
        "base",
        FIRST_VERSION,
        "onnx",
    )
    assert [(c["name"], c["color"]) for c in model["classes"]] == [
        ("background", "#4d4d4d"),
        ("cat", "#f28e2b"),
        ("dog", "#4e79a7"),
    ]
    assert model["metrics"]["test"]["mdice"] == 0.5 and model["metrics"]["matches_model"]
    assert model["tta"] == {"hflip": True, "scales": [1.0]}


def test_the_mask_is_the_class_ids_at_the_images_size(service: str):
    image = random_rgb(50, 90, seed=1)
    response = post_image(service, encoded(image))
    mask = mask_of(response)
    expected = tiny_segmenter("first").predict(image, hflip=True)
    assert mask.shape == (50, 90) and (mask == expected).mean() >= 0.999
    assert response.headers["x-model-version"] == FIRST_VERSION


def test_json_gives_the_class_shares_and_the_overlay_on_request(service: str):
    data = encoded(random_rgb(40, 30, seed=2))
    mask = mask_of(post_image(service, data))
    body = post_image(service, data, format="json", overlay="true").json()
    counts = np.bincount(mask.ravel(), minlength=3)
    assert [c["pixels"] for c in body["classes"]] == counts.tolist()
    assert [c["share"] for c in body["classes"]] == pytest.approx((counts / 1200).tolist())
    assert (body["height"], body["width"]) == (40, 30)
    assert body["overlay"].startswith("data:image/png;base64,")
    assert "overlay" not in post_image(service, data, format="json").json()


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (Image.fromarray(np.full((20, 24), 40000, dtype=np.uint16)), (20, 24)),
        (Image.new("CMYK", (33, 21), (0, 255, 255, 0)), (21, 33)),
        (Image.fromarray(np.zeros((17, 19, 4), dtype=np.uint8)), (17, 19)),
        (Image.new("RGB", (25, 15), "red").quantize(colors=4), (15, 25)),
    ],
    ids=["16-bit", "cmyk", "rgba", "palette"],
)
def test_odd_modes_are_labelled(service: str, image: Image.Image, size: tuple[int, int]):
    data = encoded(image, "JPEG" if image.mode == "CMYK" else "PNG")
    assert mask_of(post_image(service, data)).shape == size


def _refusal(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_bad_uploads_get_a_4xx_json_error_naming_the_problem(service: str):
    jpeg = encoded(random_rgb(64, 64), "JPEG")
    _refusal(post_image(service, b"plain text"), 415, "not an image")
    _refusal(post_image(service, jpeg[: len(jpeg) // 2]), 422, "truncated")
    _refusal(post_image(service, png_header_only(40_000, 40_000)), 413, "decompression bomb")
    _refusal(post_image(service, png_header_only(1000, 1000)), 413, "1,000,000 pixels")
    _refusal(post_image(service, b"x" * (MAX_BYTES + 1)), 413, f"limit is {MAX_BYTES:,}")
    _refusal(httpx.post(f"{service}/predict"), 422, "body.file")
    _refusal(post_image(service, jpeg, format="gif"), 422, "query.format")
    assert mask_of(post_image(service, jpeg)).shape == (64, 64), "the service still answers"


def test_a_chunked_body_over_the_limit_is_cut_off(service: str):
    boundary = "limit"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(2 * MAX_BYTES // 10_000):
            yield b"\0" * 10_000

    response = httpx.post(
        f"{service}/predict",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    _refusal(response, 413, "more than")


def test_the_page_its_assets_and_the_openapi_docs_are_served(service: str):
    page = httpx.get(f"{service}/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert httpx.get(f"{service}/static/app.js").status_code == 200
    assert "/predict" in httpx.get(f"{service}/openapi.json").json()["paths"]
    assert httpx.get(f"{service}/docs").status_code == 200


@pytest.mark.slow
def test_a_reload_takes_the_new_version_while_requests_in_flight_finish(
    project: Path, service: str
):
    data = encoded(random_rgb(48, 48, seed=4))
    save_model(project, SECOND_VERSION, tiny_segmenter("second", constant_class=2))
    reloaded = threading.Event()

    def predict_until_reloaded() -> list[tuple[int, str]]:
        answers = []
        while not reloaded.is_set() or len(answers) < 2:
            response = post_image(service, data)
            answers.append((response.status_code, response.headers.get("x-model-version")))
        return answers

    with ThreadPoolExecutor(3) as pool:
        clients = [pool.submit(predict_until_reloaded) for _ in range(3)]
        response = httpx.post(f"{service}/reload", timeout=120)
        reloaded.set()
        answers = [answer for client in clients for answer in client.result()]
    assert response.json() == {"hypothesis": "base", "version": SECOND_VERSION}
    assert {status for status, _ in answers} == {200}
    assert {version for _, version in answers} <= {FIRST_VERSION, SECOND_VERSION}
    assert np.all(mask_of(post_image(service, data)) == 2), "the new model sees a dog"
    assert httpx.get(f"{service}/model").json()["version"] == SECOND_VERSION
    _refusal(httpx.post(f"{service}/reload", params={"version": "2030"}), 404, "no version")
    back = httpx.post(f"{service}/reload", params={"version": FIRST_VERSION}, timeout=120)
    assert back.json()["version"] == FIRST_VERSION


@pytest.mark.slow
def test_readiness_is_503_until_a_model_loads(tmp_path: Path):
    models = tmp_path / "data/06_models/base"
    with running_service(settings_for(models), wait_ready=False) as base:
        for path in ("/readyz", "/model"):
            response = httpx.get(base + path)
            assert response.status_code == 503, path
        assert "no trained model" in httpx.get(f"{base}/readyz").json()["error"]
        _refusal(post_image(base, encoded(random_rgb(8, 8))), 503, "no trained model")
        save_model(tmp_path, FIRST_VERSION, tiny_segmenter("first"))
        assert httpx.post(f"{base}/reload", timeout=120).json()["version"] == FIRST_VERSION
        assert httpx.get(f"{base}/readyz").status_code == 200


def test_an_api_key_guards_predict_and_reload(project: Path):
    settings = settings_for(project / "data/06_models/base", api_key="s3cret")
    with running_service(settings) as base:
        data = encoded(random_rgb(8, 8))
        _refusal(post_image(base, data), 401, "X-API-Key")
        wrong = httpx.post(
            f"{base}/predict", files={"file": ("a.png", data)}, headers={"X-API-Key": "nope"}
        )
        _refusal(wrong, 401, "X-API-Key")
        right = httpx.post(
            f"{base}/predict", files={"file": ("a.png", data)}, headers={"X-API-Key": "s3cret"}
        )
        assert right.status_code == 200
        _refusal(httpx.post(f"{base}/reload"), 401, "X-API-Key")
        assert httpx.get(f"{base}/model").json()["api_key_required"] is True
