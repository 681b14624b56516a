"""The FastAPI app: ``create_app(settings)``; ``commands/serve.py`` runs it under uvicorn.

Endpoints (docs/serving.md): ``POST /predict``, ``GET /healthz``, ``GET /readyz``,
``GET /model``, ``POST /reload``, the web page at ``/`` and the OpenAPI page at ``/docs``.
The model loads in a background thread, so the process answers (503 on ``/readyz``)
while an ONNX export runs; ``POST /reload`` or SIGHUP takes a new version without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import TestTimeAugmentation
from multiclass_segmentation.serving.images import RejectedUpload, decode_upload
from multiclass_segmentation.serving.limits import BodySizeLimit
from multiclass_segmentation.serving.model import (
    ModelChoice,
    ServedModel,
    load_served_model,
    model_metrics,
)
from multiclass_segmentation.serving.responses import mask_png, prediction_summary

logger = logging.getLogger(__name__)

STATIC = Path(str(resources.files("multiclass_segmentation.serving") / "static"))
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the app needs; ``commands/serve.py`` builds it from the project's parameters."""

    choice: ModelChoice
    classes: ClassesParams
    tta: TestTimeAugmentation
    reporting_dir: Path
    max_bytes: int = 20 * 2**20
    max_pixels: int = 40_000_000
    overlay_alpha: float = 0.5
    api_key: str | None = None
    worker_threads: int = 8


class ReloadInProgressError(RuntimeError):
    pass


class ModelHolder:
    """The model new requests get. A reload builds the next model beside it and swaps the
    reference, so requests in flight finish on the model they started with."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.current: tuple[ServedModel, dict[str, Any] | None] | None = None
        self.error: str | None = None
        self._loading = threading.Lock()

    def load(self, version: str | None = None) -> ServedModel:
        """Loads ``version`` (None: the latest, or the one folder served) and makes it current."""
        if not self._loading.acquire(blocking=False):
            raise ReloadInProgressError("a model is being loaded already; try again when it is")
        try:
            choice = replace(self.settings.choice, version=version)
            served = load_served_model(choice, self.settings.classes)
            metrics = model_metrics(self.settings.reporting_dir, served)
            self.current = (served, metrics)
            self.error = None
            logger.info("Serving %s, version %s", served.hypothesis, served.version)
            return served
        finally:
            self._loading.release()

    def load_in_background(self, version: str | None = None) -> threading.Thread:
        def run() -> None:
            try:
                self.load(version)
            except ReloadInProgressError as error:
                logger.warning("Reload skipped: %s", error)
            except Exception as error:  # reported by /readyz, which stays 503 until a load works
                logger.exception("Loading the model failed")
                self.error = f"{type(error).__name__}: {error}"

        thread = threading.Thread(target=run, name="model-loader", daemon=True)
        thread.start()
        return thread


def create_app(settings: ServiceSettings) -> FastAPI:
    """The service for ``settings``; the model starts loading when the app starts."""
    holder = ModelHolder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints run in this many threads; predictions run one at a time anyway,
        # and each waiting thread holds a decoded image (anyio's default is 40).
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        holder.load_in_background(settings.choice.version)
        loop = asyncio.get_running_loop()
        # SIGHUP reloads the latest version, as `POST /reload` does (main thread only).
        if threading.current_thread() is threading.main_thread():
            loop.add_signal_handler(signal.SIGHUP, holder.load_in_background)
        yield

    app = FastAPI(
        title="multiclass_segmentation",
        description="Background / cat / dog segmentation of uploaded images.",
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_bytes)
    _add_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON ``{"error": "..."}``, the field and the problem named."""

    @app.exception_handler(RejectedUpload)
    async def rejected(request: Request, error: RejectedUpload) -> JSONResponse:
        return JSONResponse({"error": error.message}, status_code=error.status)

    # Starlette's own errors too (e.g. 400 for a malformed multipart body), not only FastAPI's.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=422)


def _holder(request: Request) -> ModelHolder:
    return request.app.state.holder


Holder = Annotated[ModelHolder, Depends(_holder)]
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)


def _require_api_key(holder: Holder, key: Annotated[str | None, Depends(_api_key_header)]) -> None:
    expected = holder.settings.api_key
    if expected and not (key and secrets.compare_digest(key.encode(), expected.encode())):
        raise HTTPException(401, f"a valid {API_KEY_HEADER} header is required")


def _ready_model(holder: Holder) -> tuple[ServedModel, dict[str, Any] | None]:
    current = holder.current
    if current is None:
        raise HTTPException(503, holder.error or "the model is still loading")
    return current


Ready = Annotated[tuple[ServedModel, dict[str, Any] | None], Depends(_ready_model)]
router = APIRouter()


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


@router.get("/healthz", summary="The process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="200 once a model is loaded, 503 before")
def readyz(holder: Holder) -> JSONResponse:
    current = holder.current
    if current is not None:
        return JSONResponse({"status": "ready", "version": current[0].version})
    if holder.error:
        return JSONResponse({"status": "failed", "error": holder.error}, status_code=503)
    return JSONResponse({"status": "loading"}, status_code=503)


@router.get("/model", summary="The served model: version, classes and colours, test metrics")
def model(holder: Holder, current: Ready) -> dict[str, Any]:
    served, metrics = current
    settings = holder.settings
    return {
        "hypothesis": served.hypothesis,
        "version": served.version,
        "runtime": served.runtime,
        "classes": _class_list(settings.classes),
        "tta": settings.tta.model_dump(),
        "metrics": metrics,
        "info": served.info,
        "api_key_required": bool(settings.api_key),
        "limits": {"max_bytes": settings.max_bytes, "max_pixels": settings.max_pixels},
    }


@router.post(
    "/predict",
    summary="Label an uploaded image",
    dependencies=[Depends(_require_api_key)],
    responses={200: {"content": {"image/png": {}, "application/json": {}}}},
)
def predict(
    holder: Holder,
    current: Ready,
    file: Annotated[UploadFile, File(description="an image file (JPEG, PNG, ...)")],
    format: Annotated[Literal["png", "json"], Query(description="mask or summary")] = "png",
    overlay: Annotated[bool, Query(description="json: add the overlay (PNG data URL)")] = False,
    colored_mask: Annotated[
        bool, Query(description="json: add the mask in class colours (RGBA PNG data URL)")
    ] = False,
) -> Response:
    """The class-id mask as a grey PNG (pixel value = class id) at the image's size, or
    JSON with each class's pixel share (``format=json``)."""
    served, _ = current
    settings = holder.settings
    image = decode_upload(file.file.read(), settings.max_pixels)
    labels = served.predict(image, settings.tta)
    headers = {"X-Model-Version": served.version}
    if format == "png":
        return Response(mask_png(labels), media_type="image/png", headers=headers)
    summary = prediction_summary(
        image,
        labels,
        settings.classes,
        overlay_alpha=settings.overlay_alpha if overlay else None,
        colored_mask=colored_mask,
    )
    body = {"hypothesis": served.hypothesis, "version": served.version, **summary}
    return JSONResponse(body, headers=headers)


@router.post(
    "/reload",
    summary="Serve the latest (or the given) version; requests in flight finish on the old",
    dependencies=[Depends(_require_api_key)],
)
def reload(holder: Holder, version: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    try:
        served = holder.load(version)
    except ReloadInProgressError as error:
        raise HTTPException(409, str(error)) from None
    except (FileNotFoundError, ValueError) as error:
        raise HTTPException(404, str(error)) from None
    return {"hypothesis": served.hypothesis, "version": served.version}


def _class_list(classes: ClassesParams) -> list[dict[str, Any]]:
    return [
        {"id": class_id, "name": classes.name_of(class_id), "color": classes.colors[index]}
        for index, class_id in enumerate(classes.ids)
    ]
