"""The ``pysaliency`` protocol against pysaliency 0.2.22 itself, as the MIT/Tuebingen
benchmark (saliency-benchmarking) calls it for saliency-map models, on random cases with
duplicate fixations, ties (maps quantised to 1/255, constant regions), negative values,
single fixations and mixed image sizes, and on tiny images (2-24 px a side) with maps of 1 px
up to twice their size.  Every metric the protocol defines, to 1e-9."""

import numpy as np
import pytest

from salbench.metrics import _rng, get_protocol, score_dataset

from conftest import agree

pysaliency = pytest.importorskip("pysaliency", reason="pysaliency not installed")

N_DATASETS = 28
N_TINY = 12  # data sets of tiny images
N_IMAGES = 8  # 320 images in all
TOL = 1e-9


@pytest.fixture(autouse=True)
def _trapz(monkeypatch):
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 calls np.trapz, removed in numpy 2.4
        monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)


def _case(rng, tiny: bool = False):
    """One data set: maps (some smaller than their image), fixations, image sizes.
    ``tiny``: images of 2-24 px a side, maps of 1 px up to twice the image's size (the
    zoom shrinking too), and an unfixated pixel left in every image (pysaliency's
    AUC-Judd fails without one; salbench gives NaN, tested elsewhere)."""
    shapes, maps, fixes = [], [], []
    for _ in range(N_IMAGES):
        lo, hi = (2, 25) if tiny else (24, 64)
        h, w = int(rng.integers(lo, hi)), int(rng.integers(lo, hi))
        shapes.append((h, w))
        kind = rng.integers(0, 5)
        if tiny:
            mh, mw = (h, w) if rng.random() < 0.3 else (int(rng.integers(1, 2 * h + 1)),
                                                         int(rng.integers(1, 2 * w + 1)))
        else:
            mh, mw = (h, w) if rng.random() < 0.5 else (int(rng.integers(6, h)),
                                                         int(rng.integers(6, w)))
        m = rng.random((mh, mw))
        if kind == 1:  # ties: an 8-bit map
            m = np.round(m * 255) / 255
        elif kind == 2:  # a constant region
            m[: mh // 2] = 0.25
        elif kind == 3:  # negative values
            m = m - 0.6
        elif kind == 4:  # few levels: many ties
            m = np.round(m * 4) / 4
        maps.append(m)
        k = 1 if rng.random() < 0.15 else int(rng.integers(2, 25))
        if tiny:
            k = min(k, h * w - 1)
        f = np.stack([rng.integers(0, h, k), rng.integers(0, w, k)], 1)
        if k > 2:
            f = np.concatenate([f, f[: int(rng.integers(1, k))]])  # duplicates
        fixes.append(f)
    return maps, fixes, shapes


def _pysaliency_scores(maps, fixes, shapes):
    class Maps(pysaliency.SaliencyMapModel):
        def _saliency_map(self, stimulus):
            return maps[int(stimulus[0, 0, 0])].copy()

    stimuli = pysaliency.Stimuli([np.full((*s, 3), i, dtype=np.uint8)
                                  for i, s in enumerate(shapes)])
    xs = np.concatenate([f[:, 1] for f in fixes]).astype(float)
    ys = np.concatenate([f[:, 0] for f in fixes]).astype(float)
    ns = np.concatenate([[i] * len(f) for i, f in enumerate(fixes)]).astype(int)
    fixations = pysaliency.Fixations.create_without_history(xs, ys, ns)
    model = pysaliency.ResizingSaliencyMapModel(Maps(caching=False), verbose=False,
                                                caching=False)
    empirical = pysaliency.FixationMap(stimuli, fixations, kernel_size=23.99, caching=False)

    def per_image(values):
        v = np.asarray(values, float)
        return np.array([v[ns == i].mean() for i in range(len(maps))])

    return {
        "auc_borji": np.asarray(model.AUC_per_image(stimuli, fixations, nonfixations="uniform")),
        "sauc": np.asarray(model.AUC_per_image(stimuli, fixations, nonfixations="shuffled")),
        "auc_judd": np.asarray(model.AUC_per_image(stimuli, fixations, nonfixations="unfixated",
                                                   thresholds="fixations")),
        "nss": per_image(model.NSSs(stimuli, fixations)),
        "cc": np.asarray(model.CCs(stimuli, empirical)),
        "kld": np.asarray(model.image_based_kl_divergences(
            stimuli, empirical, minimum_value=0, log_regularization=2.2204e-16,
            quotient_regularization=2.2204e-16)),
        "sim": np.asarray(model.SIMs(stimuli, empirical)),
    }


@pytest.mark.parametrize("case, tiny", [(c, False) for c in range(N_DATASETS)] +
                         [(c, True) for c in range(N_TINY)])
def test_pysaliency_protocol_matches_pysaliency(case, tiny):
    rng = np.random.default_rng([2026, case, 1] if tiny else [2026, case])
    maps, fixes, shapes = _case(rng, tiny)
    ref = _pysaliency_scores(maps, fixes, shapes)
    # pysaliency's AUC_Judd jitters with its own RandomState; without the jitter the two
    # compute the same curve (the jitter itself is tested below with identical draws)
    proto = get_protocol("pysaliency").replace(judd_jitter=0.0)
    ours = score_dataset(maps, fixes, shapes, protocol=proto)
    # a map constant after the resize (a 1x1 map, say): pysaliency's cc and nss then hang
    # on how numpy's mean of the equal values rounds (nss 0, or +-1 from dividing that
    # rounding by a rounding-sized std); salbench gives the constant-map values, 0 and 0
    flat = np.array([np.ptp(z) <= 1e-12 * np.abs(z).max()
                     for z in map(_resized, maps, shapes)], dtype=bool)
    for m, expect in ref.items():
        got = np.asarray(ours.per_image[m])
        if m in ("cc", "nss"):
            assert all(got[flat] == 0.0), m
            got, expect = got[~flat], expect[~flat]
        agree(got, expect, protocol="pysaliency", metric=m, atol=TOL,
              reference="pysaliency 0.2.22")


def _resized(m, shape):
    """The map at the image's size, as pysaliency's ``ResizingSaliencyMapModel`` makes it."""
    from scipy import ndimage

    if m.shape == shape:
        return m
    return ndimage.zoom(m, [shape[0] / m.shape[0], shape[1] / m.shape[1]], order=1,
                        mode="nearest")


def test_pysaliency_judd_jitter_is_normal_noise_of_1e7(rng):
    """The jittered AUC-Judd equals pysaliency's curve on the map plus the same normal
    draws times 1e-7 (salbench's stream, not pysaliency's RandomState)."""
    maps, fixes, shapes = _case(rng)
    jittered = []
    for i, (m, s) in enumerate(zip(maps, shapes)):
        big = _resized(m, s)
        noise = _rng.draw_normal(5, i, _rng.JITTER, 0, big.size).reshape(big.shape)
        jittered.append(big + noise * 1e-7)
    ref = _pysaliency_scores(jittered, fixes, shapes)["auc_judd"]
    ours = score_dataset(maps, fixes, shapes, protocol="pysaliency", metrics=["auc_judd"],
                         seed=5)
    agree(ours.per_image["auc_judd"], ref, protocol="pysaliency", metric="auc_judd (jittered)",
          atol=TOL, reference="pysaliency 0.2.22, same jitter")
