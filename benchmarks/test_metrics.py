"""Metric speed on SALICON-sized data: 500 images of 480x640, ~500 fixations each, 48x48
predictions.

* replication protocol, cc + sauc + auc_borji for the whole split: salbench vs a plain
  numpy/scipy port of the study's per-image script (target >= 30x);
* exact auc_borji and exact sauc: salbench vs pysaliency (targets >= 10x and >= 50x),
  skipped with a message when pysaliency is not installed.

numba compiles before the timed region (a warm-up call on a few images).
"""

from __future__ import annotations

import numpy as np
import pytest

from salbench.metrics import score_dataset

from conftest import n_images

SHAPE = (480, 640)


@pytest.fixture(scope="module")
def salicon_sized():
    rng = np.random.default_rng(2016)
    n = n_images()
    preds = rng.random((n, 48, 48)).astype(np.float32)
    fixes = []
    for _ in range(n):
        k = int(rng.integers(400, 600))
        r = np.clip(rng.normal(SHAPE[0] / 2, SHAPE[0] / 5, k), 0, SHAPE[0] - 1)
        c = np.clip(rng.normal(SHAPE[1] / 2, SHAPE[1] / 5, k), 0, SHAPE[1] - 1)
        fixes.append(np.stack([r, c], 1).astype(np.int64))
    return preds, fixes, [SHAPE] * n


def test_replication_salbench(benchmark, record, salicon_sized):
    preds, fixes, shapes = salicon_sized
    score_dataset(preds[:12], fixes[:12], shapes[:12], protocol="replication")  # compile
    res = benchmark.pedantic(score_dataset, args=(preds, fixes, shapes),
                             kwargs=dict(protocol="replication", seed=0), rounds=5,
                             iterations=1)
    record(benchmark, "replication cc+sauc+auc_borji (split)", "salbench",
           images=len(preds), means=res.mean)


def test_replication_numpy_port(benchmark, record, salicon_sized):
    import replication_port as port

    preds, fixes, _ = salicon_sized
    maps = []
    for f in fixes:
        m = np.zeros(SHAPE)
        m[f[:, 0], f[:, 1]] = 1.0
        maps.append(m)
    rs = np.random.RandomState(0)  # the original used numpy's global legacy generator
    out = benchmark.pedantic(port.evaluate, args=(preds, maps, lambda i: rs), rounds=1,
                             iterations=1)
    record(benchmark, "replication cc+sauc+auc_borji (split)", "numpy/scipy port",
           means={k: float(np.mean(v)) for k, v in out.items()})


@pytest.fixture(scope="module")
def full_size_maps(salicon_sized):
    _, fixes, shapes = salicon_sized
    rng = np.random.default_rng(7)
    maps = [rng.random(SHAPE) for _ in fixes]
    return maps, fixes, shapes


@pytest.mark.parametrize("metric", ["auc_borji", "sauc"])
def test_exact_auc_salbench(benchmark, record, full_size_maps, metric):
    maps, fixes, shapes = full_size_maps
    score_dataset(maps[:4], fixes[:4], shapes[:4], protocol="exact", metrics=[metric])
    benchmark.pedantic(score_dataset, args=(maps, fixes, shapes),
                       kwargs=dict(protocol="exact", metrics=[metric]), rounds=5, iterations=1)
    record(benchmark, f"exact {metric} (split)", "salbench", images=len(maps))


@pytest.mark.parametrize("metric", ["auc_borji", "sauc"])
def test_exact_auc_pysaliency(benchmark, record, full_size_maps, metric, monkeypatch):
    try:
        import pysaliency
    except ImportError:
        pytest.skip("pysaliency is not installed: pip install 'salbench[reference]' to compare")
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 calls np.trapz, removed in numpy 2.4
        monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    maps, fixes, _ = full_size_maps

    class Maps(pysaliency.SaliencyMapModel):
        def _saliency_map(self, stimulus):  # the image's index is written in its first pixel
            return maps[int(stimulus[0, 0, 0]) * 256 + int(stimulus[0, 0, 1])]

    def stimulus(i):
        img = np.zeros((*SHAPE, 3), dtype=np.uint8)
        img[0, 0, :2] = divmod(i, 256)
        return img

    stimuli = pysaliency.Stimuli([stimulus(i) for i in range(len(maps))])
    xs = np.concatenate([f[:, 1] for f in fixes]).astype(float)
    ys = np.concatenate([f[:, 0] for f in fixes]).astype(float)
    ns = np.concatenate([[i] * len(f) for i, f in enumerate(fixes)])
    fixations = pysaliency.FixationTrains.from_fixation_trains(
        xs[:, None], ys[:, None], np.zeros_like(xs)[:, None], ns, np.zeros_like(ns))
    nonfix = {"auc_borji": "uniform", "sauc": "shuffled"}[metric]
    model = Maps()
    benchmark.pedantic(model.AUC_per_image, args=(stimuli, fixations),
                       kwargs=dict(nonfixations=nonfix), rounds=1, iterations=1)
    record(benchmark, f"exact {metric} (split)", "pysaliency")
