"""The JSON Schema of each results file (config/results.py) into docs/schemas/.

python -m multiclass_segmentation.commands.results_schema [--output docs/schemas]

tests/config/test_results.py fails while the committed schemas differ from the models.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from multiclass_segmentation.config.results import RESULTS_FILES

SCHEMAS_FOLDER = Path("docs/schemas")


def schema_texts() -> dict[str, str]:
    """The file name and text of each results file's schema: ``<file>.schema.json``."""
    return {
        name.replace(".json", ".schema.json"): json.dumps(model.model_json_schema(), indent=2)
        + "\n"
        for name, model in RESULTS_FILES.items()
    }


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.commands.results_schema",
        description="Write the JSON Schema of results.json, metrics.json and robustness.json.",
    )
    parser.add_argument("--output", type=Path, default=SCHEMAS_FOLDER, help="the folder")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        path = args.output / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    print("Wrote " + ", ".join(map(str, written)))
    return written


if __name__ == "__main__":
    main()
