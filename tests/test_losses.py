"""The differentiable losses: values against salbench's metrics (MIT's definitions) and the
loop-level references on the same maps, gradients by gradcheck, the weighted sums, and
bad settings refused."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from salbench import losses, metrics
from salbench.loss_spec import TERMS, check_loss

import naive

SHAPES = [(1, 7, 9), (3, 16, 16), (2, 48, 48)]


def _maps(shape, seed, positive=True):
    rng = np.random.default_rng(seed)
    x = rng.random(shape) + (0.01 if positive else -0.5)
    return torch.from_numpy(x)


def _fixations(shape, seed, k=12):
    rng = np.random.default_rng(seed)
    out = torch.zeros(shape, dtype=torch.float64)
    cells = []
    for i in range(shape[0]):
        r = rng.integers(0, shape[1], k)
        c = rng.integers(0, shape[2], k)
        out[i, r, c] = 1.0
        cells.append(np.stack([r, c], 1))
    return out, cells


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["cc", "kld", "sim"])
def test_map_losses_equal_the_mit_metrics_and_the_references(shape, name):
    pred, target = _maps(shape, 1), _maps(shape, 2)
    got = getattr(losses, name)(pred, target, reduction="none").numpy()
    ref = {"cc": naive.pearson, "kld": naive.kld_mit, "sim": naive.sim_mit}[name]
    for i in range(shape[0]):
        p, g = pred[i].numpy(), target[i].numpy()
        fn = getattr(metrics, name)
        metric = fn(p, np.array([[0, 0]]), gt_map=g, protocol="mit")
        assert got[i] == pytest.approx(metric, rel=1e-12, abs=1e-13)
        assert got[i] == pytest.approx(ref(p, g), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_nss_equals_the_mit_metric_on_the_fixated_cells(shape):
    pred = _maps(shape, 3, positive=False)
    fix, cells = _fixations(shape, 4)
    got = losses.nss(pred, fix, reduction="none").numpy()
    for i in range(shape[0]):
        p = pred[i].numpy()
        assert got[i] == pytest.approx(metrics.nss(p, cells[i], protocol="mit"), rel=1e-12)
        assert got[i] == pytest.approx(naive.nss(p, cells[i], ddof=1), rel=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_bhattacharyya_equals_its_definition(shape):
    pred, target = _maps(shape, 5), _maps(shape, 6)
    got = losses.bhattacharyya(pred, target, reduction="none").numpy()
    for i in range(shape[0]):
        assert got[i] == pytest.approx(naive.bhattacharyya(pred[i].numpy(),
                                                           target[i].numpy()), rel=1e-10)


def test_hand_worked_values():
    # two cells: P = (1/4, 3/4), G = (3/4, 1/4)
    p = torch.tensor([[[1.0, 3.0]]], dtype=torch.float64)
    g = torch.tensor([[[3.0, 1.0]]], dtype=torch.float64)
    bc = 2 * np.sqrt(3 / 16)
    assert float(losses.bhattacharyya(p, g)) == pytest.approx(-np.log(bc), rel=1e-14)
    kl = 0.75 * np.log(3.0) + 0.25 * np.log(1 / 3)
    assert float(losses.kld(p, g)) == pytest.approx(kl, rel=1e-12)
    assert float(losses.cc(p, g)) == pytest.approx(-1.0, rel=1e-14)
    assert float(losses.sim(p, g)) == pytest.approx(0.0, abs=1e-15)  # min-max: (0,1) v (1,0)
    z = torch.tensor([[[0.0, 1.0, 2.0]]], dtype=torch.float64)
    fixed = torch.tensor([[[0.0, 0.0, 1.0]]], dtype=torch.float64)
    assert float(losses.nss(z, fixed)) == pytest.approx(1.0, rel=1e-14)  # (2 - 1) / std 1


@pytest.mark.parametrize("name", list(TERMS))
def test_gradients(name):
    torch.manual_seed(0)
    pred = (torch.rand(2, 5, 6, dtype=torch.float64) + 0.05).requires_grad_()
    if TERMS[name].uses == "fixations":
        other, _ = _fixations((2, 5, 6), 7, k=4)
    else:
        other = torch.rand(2, 5, 6, dtype=torch.float64) + 0.05
    fn = getattr(losses, name)
    assert torch.autograd.gradcheck(lambda p: fn(p, other, reduction="none"), (pred,))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_every_loss_ignores_the_scale_of_the_prediction(seed, scale):
    pred, target = _maps((2, 6, 5), seed), _maps((2, 6, 5), seed + 1)
    fix, _ = _fixations((2, 6, 5), seed, k=3)
    for name, term in TERMS.items():
        other = fix if term.uses == "fixations" else target
        fn = getattr(losses, name)
        a = fn(pred, other, reduction="none")
        b = fn(pred * scale, other, reduction="none")
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_identical_maps_are_the_optimum():
    g = _maps((3, 8, 8), 8)
    assert torch.allclose(losses.cc(g, g, reduction="none"), torch.ones(3, dtype=g.dtype))
    assert torch.allclose(losses.sim(g, g, reduction="none"), torch.ones(3, dtype=g.dtype))
    # MIT's eps: sum g log(eps + g / (g + eps)) ~ sum g (eps - eps / g) = eps (1 - n)
    n = 64
    np.testing.assert_allclose(losses.kld(g, g, reduction="none").numpy(),
                               losses.MATLAB_EPS * (1 - n), rtol=1e-3)
    assert torch.allclose(losses.bhattacharyya(g, g, reduction="none"),
                          torch.zeros(3, dtype=g.dtype), atol=1e-14)


def test_reductions():
    pred, target = _maps((4, 5, 5), 9), _maps((4, 5, 5), 10)
    each = losses.kld(pred, target, reduction="none")
    assert each.shape == (4,)
    assert float(losses.kld(pred, target)) == pytest.approx(float(each.mean()), rel=1e-14)
    assert float(losses.kld(pred, target, reduction="sum")) == pytest.approx(
        float(each.sum()), rel=1e-14)
    with pytest.raises(ValueError, match="reduction"):
        losses.kld(pred, target, reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        losses.cc(pred, target[:, :4])


def test_a_combined_loss_is_the_signed_weighted_sum():
    pred, target = _maps((3, 9, 9), 11), _maps((3, 9, 9), 12)
    fix, _ = _fixations((3, 9, 9), 13)
    loss = losses.make_loss("combined", {"kld": 10, "cc": 2, "nss": 1})
    expect = (10 * losses.kld(pred, target, reduction="none")
              - 2 * losses.cc(pred, target, reduction="none")
              - losses.nss(pred, fix, reduction="none"))
    torch.testing.assert_close(loss(pred, target, fix, reduction="none"), expect)
    assert loss.needs_fixations
    with pytest.raises(ValueError, match="fixation maps"):
        loss(pred, target)
    single = losses.make_loss("cc")
    torch.testing.assert_close(single(pred, target), -losses.cc(pred, target))
    assert not single.needs_fixations


@pytest.mark.parametrize("name, weights, message", [
    ("kdl", None, "did you mean 'kld'"),
    ("combined", None, "needs loss_weights"),
    ("combined", {"kld": 1, "ccc": 1}, "unknown loss term 'ccc'"),
    ("combined", {"kld": -1}, "positive number"),
    ("combined", {"kld": True}, "positive number"),
    ("mse", {"kld": 1}, "takes no loss_weights"),
    ("kld", {"cc": 1}, "no weights of other terms"),
])
def test_bad_loss_settings_are_refused(name, weights, message):
    with pytest.raises(ValueError, match=message):
        check_loss(name, weights)


def test_loss_spec_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import salbench.loss_spec, salbench.nets.training.config; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_what_is_minimised_is_written_for_people():
    from salbench.loss_spec import describe

    assert describe("combined", {"kld": 10.0, "cc": 2.0, "nss": 1.0}) == "10 KLD - 2 CC - NSS"
    assert describe("cc", {"cc": 1.0}) == "-CC"
    assert describe("mse", {}) == "MSE"
    assert describe("combined", {"cc": 2.0, "kld": 1.5}) == "-2 CC + 1.5 KLD"
