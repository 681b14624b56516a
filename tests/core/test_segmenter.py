"""Batched prediction: images of any size in one batch, each scored at its own size."""

from __future__ import annotations

import numpy as np
import torch

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
