"""The service's masks against the inference pipeline's on a real test split.

    .venv/bin/python benchmarks/serve_agreement.py                       # default dataset
    .venv/bin/python benchmarks/serve_agreement.py --model data/06_models/base --dataset DIR

The pipeline's mask of an image is ``Segmenter.predict(rgb_array(image), hflip=True)``
(pipelines/inference/nodes._predicted_mask, PyTorch); the service's is its answer
to ``POST /predict`` (ONNX Runtime), started as in benchmarks/serve.py. Without
--model the default architecture with the packaged encoder weights and a random
decoder is used (no trained model needed; a random decoder's ties make agreement
harder, not easier). Prints and writes pixel agreement and the test mDice of both
against labels/test to benchmarks/results/serve-agreement-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve as bench  # noqa: E402  (benchmarks/ is a folder of scripts)

DATASET = bench.PROJECT_ROOT.parent / "shared/datasets/train_dataset_for_students"


def mean_dice(confusion: np.ndarray) -> float:
    dice = 2 * np.diag(confusion) / (confusion.sum(axis=0) + confusion.sum(axis=1))
    return float(np.nanmean(dice))


def confusion(prediction: np.ndarray, label: np.ndarray, classes: int = 3) -> np.ndarray:
    valid = label < classes  # 255 is ignored
    pairs = label[valid].astype(np.int64) * classes + prediction[valid]
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)


def measure(base: str, model_folder: Path, dataset: Path) -> dict:
    from multiclass_segmentation.io.imaging import read_mask, read_rgb
    from multiclass_segmentation.io.model_folder import load_model_folder

    segmenter = load_model_folder(model_folder)
    agree = total = 0
    served_confusion = np.zeros((3, 3), dtype=np.int64)
    pipeline_confusion = np.zeros((3, 3), dtype=np.int64)
    images = sorted((dataset / "img/test").glob("*.jpg"))
    for path in images:
        expected = segmenter.predict(read_rgb(path), hflip=True)
        response = httpx.post(f"{base}/predict", files={"file": (path.name, path.read_bytes())})
        response.raise_for_status()
        served = np.array(Image.open(io.BytesIO(response.content)))
        agree += int((served == expected).sum())
        total += served.size
        label = read_mask(dataset / "labels/test" / f"{path.stem}.png")
        served_confusion += confusion(served, label)
        pipeline_confusion += confusion(expected, label)
    return {
        "images": len(images),
        "pixel_agreement": agree / total,
        "mdice_served": mean_dice(served_confusion),
        "mdice_pipeline": mean_dice(pipeline_confusion),
        "mdice_difference": abs(mean_dice(served_confusion) - mean_dice(pipeline_confusion)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--model", type=Path, help="a folder of model versions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-agreement-") as folder:
        work = Path(folder)
        models = args.model or bench.save_model(work)
        port = bench.free_port()
        base = f"http://127.0.0.1:{port}"
        log = work / "server.log"
        server = bench.start_server(models, port, log)
        try:
            bench.wait_ready(base, server, log)
            version = httpx.get(f"{base}/model").json()["version"]
            result = measure(base, models / version / models.name, args.dataset)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result["model"] = str(args.model or "default architecture, random decoder")
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    output = bench.RESULTS_DIR / f"serve-agreement-{created.replace(':', '-')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2), f"\nWrote {output}")


if __name__ == "__main__":
    main()
