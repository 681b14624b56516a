"""multiclass_segmentation: Kedro pipelines for semantic segmentation."""

from multiclass_segmentation.warning_filters import silence_known_warnings

__version__ = "0.1.0"

# At the package's first import: Kedro's commands, notebooks, DataLoader workers and
# spawned DDP processes all import it before the libraries warn.
silence_known_warnings()
