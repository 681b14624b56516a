"""Known third-party warnings are silenced where they arise, and only there."""

from __future__ import annotations

import warnings

from multiclass_segmentation.warning_filters import silence_known_warnings

RESOLVER = "register_new_resolver() is deprecated, use register_resolver() instead"


def _shown(message: str, category: type[Warning], module: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_known_warnings()
        warnings.warn_explicit(message, category, "source.py", 1, module=module)
    return [str(warning.message) for warning in caught]


def test_kedros_resolver_warning_is_silenced():
    assert _shown(RESOLVER, UserWarning, "kedro.config.omegaconf_config") == []


def test_the_same_warning_from_other_code_still_shows():
    assert _shown(RESOLVER, UserWarning, "someone_elses_package.config") == [RESOLVER]


def test_lightnings_leafspec_warning_is_silenced_and_other_lightning_warnings_show():
    leafspec = "`isinstance(treespec, LeafSpec)` is deprecated, use `treespec.is_leaf()`"
    other = "The dataloader does not have many workers which may be a bottleneck."

    assert _shown(leafspec, FutureWarning, "lightning.pytorch.utilities.data") == []
    assert _shown(other, UserWarning, "lightning.pytorch.trainer.connectors") == [other]
