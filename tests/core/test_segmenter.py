"""Batched prediction: images of any size in one batch, each scored at its own size."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from multiclass_segmentation.core.segmenter import EnsembleSegmenter
from tests.pipelines.inference.builders import tiny_segmenter


def test_a_batch_predicts_what_each_image_alone_predicts_at_its_own_size():
    segmenter = tiny_segmenter("batch")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(37, 53, 3), (20, 20, 3)]]

    together = segmenter.predict_probabilities_batch(images, hflip=True, scales=[1.0, 1.5])
    alone = [
        segmenter.predict_probabilities(image, hflip=True, scales=[1.0, 1.5]) for image in images
    ]

    assert [p.shape for p in together] == [(3, 37, 53), (3, 20, 20)]
    for batched, single in zip(together, alone, strict=True):
        torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(batched.sum(dim=0), torch.ones(batched.shape[1:]))
    masks = segmenter.predict_batch(images)
    assert [(m.shape, m.dtype) for m in masks] == [((37, 53), np.uint8), ((20, 20), np.uint8)]


def test_an_ensemble_averages_its_members_probabilities_with_their_weights():
    cat, dog = tiny_segmenter("cat", constant_class=1), tiny_segmenter("dog", constant_class=2)
    image = np.zeros((8, 12, 3), np.uint8)
    # Each member's logits are 10 for its class and 0 elsewhere: softmax e^10 / (e^10 + 2).
    high, low = math.exp(10) / (math.exp(10) + 2), 1 / (math.exp(10) + 2)
    ensemble = EnsembleSegmenter(members=[cat, dog], weights=[3.0, 1.0], hypothesis="both")

    probabilities = ensemble.predict_probabilities(image, hflip=True)

    expected = [low, (3 * high + low) / 4, (3 * low + high) / 4]
    for class_id, value in enumerate(expected):
        torch.testing.assert_close(
            probabilities[class_id], torch.full((8, 12), value), atol=1e-5, rtol=1e-4
        )
    assert (ensemble.predict(image) == 1).all()
    reweighted = EnsembleSegmenter(members=[cat, dog], weights=[1.0, 3.0], hypothesis="both")
    assert (reweighted.predict(image) == 2).all()


def test_an_ensemble_refuses_weights_that_do_not_match_its_members():
    members = [tiny_segmenter("a"), tiny_segmenter("b")]
    with pytest.raises(ValueError, match="2 members need as many positive weights"):
        EnsembleSegmenter(members=members, weights=[1.0], hypothesis="bad")
    with pytest.raises(ValueError, match="positive weights"):
        EnsembleSegmenter(members=members, weights=[1.0, 0.0], hypothesis="bad")
