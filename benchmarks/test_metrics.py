"""Metric speed on SALICON-sized data (500 images of 480x640, 400-600 fixations each,
48x48 predictions), salbench against the reference implementations, same run:

* replication protocol, cc + sauc + auc_borji for the whole split, vs a plain numpy/scipy
  port of the study's per-image script (target >= 30x);
* exact auc_borji and exact sauc vs pysaliency 0.2.22 (targets >= 10x and >= 50x);
* the pysaliency protocol, every metric it defines, vs pysaliency itself (100 images);
* EMD on its own line (MIT's EMD.m with FastEMD: slow by nature), vs the naive port.

numba compiles before the timed region (a warm-up call on a few images); every member
runs at least three rounds and the ratio is of minima.
"""

from __future__ import annotations

import numpy as np
import pytest

from salbench.metrics import score_dataset

from conftest import ROUNDS, SHAPE, n_images, salicon_sized


@pytest.fixture(scope="module")
def data():
    return salicon_sized(n_images())


def test_replication_salbench(benchmark, record, data):
    preds, fixes, shapes = data
    score_dataset(preds[:12], fixes[:12], shapes[:12], protocol="replication")  # compile
    res = benchmark.pedantic(score_dataset, args=(preds, fixes, shapes),
                             kwargs=dict(protocol="replication", seed=0), rounds=5,
                             iterations=1)
    record(benchmark, "replication cc+sauc+auc_borji (split)", "salbench",
           images=len(preds), means=res.mean)


def test_replication_numpy_port(benchmark, record, data):
    import replication_port as port

    preds, fixes, _ = data
    maps = []
    for f in fixes:
        m = np.zeros(SHAPE)
        m[f[:, 0], f[:, 1]] = 1.0
        maps.append(m)
    rs = np.random.RandomState(0)  # the original used numpy's global legacy generator
    out = benchmark.pedantic(port.evaluate, args=(preds, maps, lambda i: rs), rounds=ROUNDS,
                             iterations=1)
    record(benchmark, "replication cc+sauc+auc_borji (split)", "numpy/scipy port",
           means={k: float(np.mean(v)) for k, v in out.items()})


@pytest.fixture(scope="module")
def full_size_maps(data):
    _, fixes, shapes = data
    rng = np.random.default_rng(7)
    maps = [rng.random(SHAPE) for _ in fixes]
    return maps, fixes, shapes


@pytest.fixture
def pysaliency(monkeypatch):
    mod = pytest.importorskip("pysaliency", reason="pip install 'salbench[reference]'")
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 calls np.trapz, removed in numpy 2.4
        monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    return mod


def _pysaliency_inputs(pysaliency, maps, fixes, shapes):
    class Maps(pysaliency.SaliencyMapModel):
        def _saliency_map(self, stimulus):  # the image's index is written in its first pixel
            return maps[int(stimulus[0, 0, 0]) * 256 + int(stimulus[0, 0, 1])]

    def stimulus(i):
        img = np.zeros((*shapes[i], 3), dtype=np.uint8)
        img[0, 0, :2] = divmod(i, 256)
        return img

    stimuli = pysaliency.Stimuli([stimulus(i) for i in range(len(maps))])
    xs = np.concatenate([f[:, 1] for f in fixes]).astype(float)
    ys = np.concatenate([f[:, 0] for f in fixes]).astype(float)
    ns = np.concatenate([[i] * len(f) for i, f in enumerate(fixes)])
    fixations = pysaliency.Fixations.create_without_history(xs, ys, ns)
    return Maps(caching=False), stimuli, fixations


@pytest.mark.parametrize("metric", ["auc_borji", "sauc"])
def test_exact_auc_salbench(benchmark, record, full_size_maps, metric):
    maps, fixes, shapes = full_size_maps
    score_dataset(maps[:12], fixes[:12], shapes[:12], protocol="exact", metrics=[metric])
    benchmark.pedantic(score_dataset, args=(maps, fixes, shapes),
                       kwargs=dict(protocol="exact", metrics=[metric]), rounds=5, iterations=1)
    record(benchmark, f"exact {metric} (split)", "salbench", images=len(maps))


@pytest.mark.parametrize("metric", ["auc_borji", "sauc"])
def test_exact_auc_pysaliency(benchmark, record, full_size_maps, metric, pysaliency):
    maps, fixes, shapes = full_size_maps
    model, stimuli, fixations = _pysaliency_inputs(pysaliency, maps, fixes, shapes)
    nonfix = {"auc_borji": "uniform", "sauc": "shuffled"}[metric]
    benchmark.pedantic(model.AUC_per_image, args=(stimuli, fixations),
                       kwargs=dict(nonfixations=nonfix), rounds=ROUNDS, iterations=1)
    record(benchmark, f"exact {metric} (split)", "pysaliency")


PYS_IMAGES = 100


def test_pysaliency_protocol_salbench(benchmark, record, data):
    preds, fixes, shapes = (x[:PYS_IMAGES] for x in data)
    score_dataset(preds[:12], fixes[:12], shapes[:12], protocol="pysaliency")
    benchmark.pedantic(score_dataset, args=(preds, fixes, shapes),
                       kwargs=dict(protocol="pysaliency"), rounds=ROUNDS, iterations=1)
    record(benchmark, f"pysaliency protocol, 7 metrics ({PYS_IMAGES} images)", "salbench")


def test_pysaliency_protocol_pysaliency(benchmark, record, data, pysaliency):
    preds, fixes, shapes = (x[:PYS_IMAGES] for x in data)
    inner, stimuli, fixations = _pysaliency_inputs(pysaliency, list(preds), fixes, shapes)
    model = pysaliency.ResizingSaliencyMapModel(inner, verbose=False, caching=False)
    empirical = pysaliency.FixationMap(stimuli, fixations, kernel_size=23.99, caching=False)

    def everything():
        model.AUC_per_image(stimuli, fixations, nonfixations="uniform")
        model.AUC_per_image(stimuli, fixations, nonfixations="shuffled")
        model.AUC_Judd(stimuli, fixations)
        model.NSSs(stimuli, fixations)
        model.CCs(stimuli, empirical)
        model.image_based_kl_divergences(stimuli, empirical, minimum_value=0,
                                         log_regularization=2.2204e-16,
                                         quotient_regularization=2.2204e-16)
        model.SIMs(stimuli, empirical)

    benchmark.pedantic(everything, rounds=ROUNDS, iterations=1)
    record(benchmark, f"pysaliency protocol, 7 metrics ({PYS_IMAGES} images)", "pysaliency")


EMD_IMAGES = 20


def test_emd_salbench(benchmark, record, data):
    preds, fixes, shapes = (x[:EMD_IMAGES] for x in data)
    score_dataset(preds[:2], fixes[:2], shapes[:2], protocol="mit", metrics=["emd"])
    benchmark.pedantic(score_dataset, args=(preds, fixes, shapes),
                       kwargs=dict(protocol="mit", metrics=["emd"]), rounds=ROUNDS,
                       iterations=1)
    record(benchmark, f"mit emd, FastEMD ({EMD_IMAGES} images)", "salbench")


def test_emd_naive(benchmark, record, data):
    import naive

    preds, fixes, _ = (x[:EMD_IMAGES] for x in data)

    def run():
        for p, f in zip(preds, fixes, strict=True):
            naive.emd_mit(p.astype(float),
                          naive.antonio_gaussian(naive.fixation_map(f, SHAPE)))

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    record(benchmark, f"mit emd, FastEMD ({EMD_IMAGES} images)", "naive EMD.m port")
