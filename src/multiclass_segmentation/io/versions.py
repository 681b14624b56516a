"""The saved versions of Kedro's versioned datasets, without Kedro.

Kedro saves each version of a versioned dataset ``<folder>/<name>`` as
``<folder>/<name>/<version>/<name>``; version names are UTC timestamps
(``2026-01-02T10.00.00.000Z``), so they sort by time.
"""

from __future__ import annotations

import re
from pathlib import Path


def version_path_pattern(name: str, suffix: str = "") -> re.Pattern[str]:
    """Matches ``<name><suffix>/<version>/<name>``, the path of one version relative to the
    dataset's folder, with groups ``version`` and any that the regex ``name`` holds.

    ``suffix`` is the file's, which a PartitionedDataset's partition ids leave out.
    """
    return re.compile(rf"(?P<name>{name}){re.escape(suffix)}/(?P<version>[^/]+)/(?P=name)")


def saved_versions(dataset_path: Path) -> list[str]:
    """The versions saved of the versioned dataset at ``dataset_path``, oldest first."""
    dataset_path = Path(dataset_path)
    pattern = version_path_pattern(re.escape(dataset_path.name))
    matches = (
        pattern.fullmatch(path.relative_to(dataset_path.parent).as_posix())
        for path in dataset_path.glob(f"*/{dataset_path.name}")
    )
    return sorted(match["version"] for match in matches if match)
