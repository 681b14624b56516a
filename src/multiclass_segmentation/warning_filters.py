"""Third-party warnings that a user can do nothing about, silenced where they arise.

Each filter names the message and the module that warns, so the same warning from
anywhere else, and every other warning, still shows. Never imports kedro or torch.
"""

from __future__ import annotations

import warnings

# (message regex, category, module regex of the code the warning is attributed to)
KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    # Kedro 1.7 calls OmegaConf's renamed resolver API at every config load.
    (r"register_new_resolver\(\) is deprecated", UserWarning, r"kedro\.config\."),
    # Lightning 2.6 builds torch's deprecated LeafSpec on every batch it moves.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning, r"lightning\."),
    # The study's summary reads its runs' outputs by their namespaced names
    # (base.seed_42.metrics): dots are Kedro's own namespacing there.
    (r"One or more dataset names contain '\.'", UserWarning, r"multiclass_segmentation\."),
)


def silence_known_warnings() -> None:
    """Adds an ignore filter for each of ``KNOWN_WARNINGS``."""
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
