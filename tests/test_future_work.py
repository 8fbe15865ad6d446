"""The study's future work as registry entries: distribution losses, learned priors and
adversarial training, each trained through the tiny path (forward and backward with its
card's own loss), resumable, and refused where the card does not fit together."""

import dataclasses

import numpy as np
import pytest
import torch

from salbench import registry
from salbench.data import synth
from salbench.errors import UserError
from salbench.nets.shallow_pan import VARIANTS, build, tiny
from salbench.nets.training.checkpoints import latest
from salbench.nets.training.checkpoints import load as load_checkpoint
from salbench.nets.training.data import DeviceData, fixation_cells
from salbench.nets.training.loop import train

FUTURE = [n for n in registry.names() if registry.get_card(n).kind == "network"
          and any(n.endswith(s) for s in ("-kld", "-bhatt", "-combined", "-priors", "-gan"))]


@pytest.fixture(scope="module")
def tiny_data():
    cfg = synth.SynthConfig(n_train=16, n_val=8)
    return synth.generate_split(cfg, "train"), synth.generate_split(cfg, "val")


def _tiny_model(name, seed=0):
    model = registry.create(name)
    model.arch = tiny(model.arch)
    model.build(seed)
    return model


def test_every_future_work_entry_and_its_cpu_sibling_is_registered():
    for kind in ("kld", "bhatt", "combined", "priors", "gan"):
        assert f"shallow-pan-{kind}" in FUTURE and f"shallow-pan-small-{kind}" in FUTURE
    assert "shallow-pan-small-l1" in registry.names()
    for name in FUTURE:
        card = registry.get_card(name)
        assert card.source and card.differs, name  # names its paper and what differs


@pytest.mark.parametrize("name", FUTURE)
def test_tiny_forward_backward_with_the_cards_loss(name, tiny_data, tmp_path):
    tr, va = tiny_data
    model = _tiny_model(name)
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    result = model.fit(tr, va, tmp_path, epochs=1, progress=False, batch_size=8,
                       checkpoint_every=1)
    assert np.isfinite(result.final_train_loss) and np.isfinite(result.final_val_loss)
    after = model.module.state_dict()
    moved = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith(("features", "generator.features", "net.features"))
               for k in moved), moved
    if VARIANTS[name].discriminator:
        assert any(k.startswith("discriminator") for k in moved)
    if VARIANTS[name].priors:
        assert {"mean", "log_std", "correlation"} <= set(moved)
    maps = model.predict(va)
    assert maps.shape == (8, 48, 48) and maps.min() >= 0 and maps.max() <= 1
    if VARIANTS[name].output == "softmax":  # scaled by the maximum, not clipped
        np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["shallow-pan-small-gan", "shallow-pan-small-combined"])
def test_resuming_gives_the_weights_of_an_uninterrupted_run(name, tiny_data, tmp_path):
    """The discriminator and both optimizers' states travel in the checkpoint."""
    tr, va = tiny_data
    cfg = _tiny_model(name).train_config(epochs=2, batch_size=8, checkpoint_every=1)
    straight = _tiny_model(name, seed=1)
    train(straight.module, name, tr, va, cfg, tmp_path / "a", progress=False)
    stopped = _tiny_model(name, seed=1)
    train(stopped.module, name, tr, va, dataclasses.replace(cfg, stop_after=1),
          tmp_path / "b", progress=False)
    resumed = _tiny_model(name, seed=1)
    train(resumed.module, name, tr, va, cfg, tmp_path / "b", progress=False)
    a = load_checkpoint(latest(tmp_path / "a"))
    b = load_checkpoint(latest(tmp_path / "b"))
    assert a["epoch"] == b["epoch"] == 2
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k
    if "gan" in name:
        assert set(a["optimizer"]) == {"generator", "discriminator"}


def test_priors_start_as_the_network_alone():
    cfg = tiny(VARIANTS["shallow-pan-small-priors"])
    torch.manual_seed(0)
    with_priors = build(cfg)
    x = torch.rand(3, 3, 96, 96)
    with torch.no_grad():
        np.testing.assert_allclose(with_priors(x).numpy(), with_priors.net(x).numpy(),
                                   rtol=1e-5, atol=1e-6)
        priors = with_priors.priors()
    assert priors.shape == (16, 48, 48)
    np.testing.assert_allclose(priors.amax(dim=(1, 2)).numpy(), 1.0, atol=0.02)


def test_a_prior_is_the_gaussian_of_its_mean_and_covariance():
    net = build(tiny(VARIANTS["shallow-pan-small-priors"]))
    with torch.no_grad():
        net.mean[0] = torch.tensor([0.3, 0.6])
        net.log_std[0] = torch.log(torch.tensor([0.1, 0.2]))
        net.correlation[0] = torch.atanh(torch.tensor(0.5 / 0.9))
        p = net.priors()[0].double().numpy()
    cov = np.array([[0.01, 0.5 * 0.1 * 0.2], [0.5 * 0.1 * 0.2, 0.04]])
    inv = np.linalg.inv(cov)
    for i, j in [(14, 28), (20, 20), (3, 40)]:
        d = np.array([(i + 0.5) / 48 - 0.3, (j + 0.5) / 48 - 0.6])
        assert p[i, j] == pytest.approx(np.exp(-0.5 * d @ inv @ d), rel=1e-5)


def test_a_discriminator_learns_to_tell_targets_from_noise(tiny_data):
    from salbench.nets.adversarial import Discriminator

    tr, _ = tiny_data
    torch.manual_seed(0)
    d = Discriminator(4, 48)
    opt = torch.optim.Adam(d.parameters(), lr=3e-3)
    data = DeviceData(tr, torch.device("cpu"))
    x, y, _ = data.batch(torch.arange(16))
    noise = torch.rand_like(y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(60):
        loss = bce(d(x, y), torch.ones(16)) + bce(d(x, noise), torch.zeros(16))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert (d(x, y) > 0).all() and (d(x, noise) < 0).all()


def test_fixation_maps_follow_the_mirrors(tiny_data):
    tr, _ = tiny_data
    cells = fixation_cells(tr, len(tr), 48)
    half = len(tr) // 2
    np.testing.assert_array_equal(cells[half:], cells[:half, :, ::-1])
    for i in (0, 5):
        f = tr.fixations(i)
        h, w = tr.sizes[i]
        r, c = int(f[0, 0]), int(f[0, 1])
        assert cells[i, int((r + 0.5) * 48 / h), int((c + 0.5) * 48 / w)] == 1
    data = DeviceData(tr, torch.device("cpu"), fixations=True)
    _, _, f = data.batch(torch.tensor([2, half + 2]))
    assert torch.equal(f[1], f[0].flip(-1)) and int(f[0].sum()) == int((cells[2] > 0).sum())


def test_a_loss_that_needs_fixations_refuses_a_split_without_them(tiny_data, tmp_path):
    tr, va = tiny_data
    bare = dataclasses.replace(tr, fix_rc=np.zeros((0, 2), np.int32),
                               fix_offsets=np.zeros(len(tr) + 1, np.int64),
                               fix_subject=np.zeros(0, np.int32))
    model = _tiny_model("shallow-pan-small-combined")
    with pytest.raises(UserError, match="needs fixations"):
        model.fit(bare, va, tmp_path, epochs=1, progress=False)


def test_images_without_fixations_add_nothing_to_an_nss_term(tiny_data, capsys):
    from salbench.losses import make_loss, nss

    tr, _ = tiny_data
    offsets = tr.fix_offsets.copy()
    offsets[1:] -= offsets[1]  # image 0 loses its fixations (the mirror keeps its own)
    some = dataclasses.replace(tr, fix_rc=tr.fix_rc[tr.fix_offsets[1]:],
                               fix_offsets=np.concatenate([[0], offsets[1:]]),
                               fix_subject=tr.fix_subject[tr.fix_offsets[1]:])
    data = DeviceData(some, torch.device("cpu"), fixations=True)
    assert "1 of 16 images" in capsys.readouterr().err
    _, y, f = data.batch(torch.arange(4))
    pred = torch.rand(4, 48, 48, dtype=torch.float64)
    assert torch.isnan(nss(pred, f.double(), reduction="none")[0])  # the metric: undefined
    loss = make_loss("nss")(pred, y.double(), f.double(), reduction="none")
    assert loss[0] == 0 and torch.isfinite(loss).all()


@pytest.mark.parametrize("change, message", [
    ({"loss": "kld"}, "compares distributions"),
    ({"adversarial_weight": 0.1}, "discriminator"),
    ({"loss": "combined"}, "needs loss_weights"),
])
def test_cards_that_do_not_fit_together_are_refused(tmp_path, change, message):
    text = (registry.cards_dir() / "shallow-pan-small.toml").read_text()
    for key, value in change.items():
        line = f"{key} = {value!r}".replace("'", '"')
        if key == "loss":
            text = text.replace('loss = "mse"', line)
        else:
            text = text.replace("[train]\n", f"[train]\n{line}\n")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        registry._parse(path)


@pytest.mark.parametrize("name", ["shallow-pan-small-priors", "shallow-pan-small-gan",
                                  "shallow-pan-small-kld"])
def test_the_filters_plot_finds_the_predicting_network(name):
    from salbench.runner import _conv1

    model = _tiny_model(name)
    assert _conv1(model).shape == (4, 3, 5, 5)  # tiny's first convolution, not a head's
