"""The shallow networks and the registry."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from salbench import registry
from salbench.nets.shallow_pan import VARIANTS, ShallowConfig, build, param_count


@pytest.mark.parametrize("name", registry.names(include_test=True))
def test_every_registered_model_builds_and_runs(name, rng):
    """timm-style: every registry entry gets a forward pass (networks) or a prediction."""
    card = registry.get_card(name)
    model = registry.create(name)
    if card.kind == "network":
        net = model.build(seed=0)
        with torch.no_grad():
            y = net(torch.rand(2, 3, 96, 96))
        assert y.shape == (2, 48, 48) and torch.isfinite(y).all()
        predictor = getattr(net, "generator", net)  # a discriminator predicts nothing
        assert sum(p.numel() for p in predictor.parameters()) == card.param_count()


def test_parameter_counts():
    assert param_count(VARIANTS["shallow-pan-paper"]) == 64_392_512  # Pan et al. as published
    assert VARIANTS["shallow-pan-paper"].flat_features() == 12_800
    assert VARIANTS["shallow-pan"].flat_features() == 15_488  # the replication study's
    assert param_count(VARIANTS["shallow-pan"]) == 76_778_816
    assert param_count(VARIANTS["shallow-pan-l1"]) == param_count(VARIANTS["shallow-pan"])
    for cfg in VARIANTS.values():
        net = getattr(build(cfg), "generator", build(cfg))
        assert sum(p.numel() for p in net.parameters()) == param_count(cfg)


def test_layer_shapes_of_the_study_network():
    net = build(VARIANTS["shallow-pan"])
    x = torch.rand(1, 3, 96, 96)
    shapes = []
    for layer in net.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[2] == (32, 48, 48) and shapes[5] == (64, 23, 23) and shapes[8] == (128, 11, 11)
    assert net.fc1.in_features == 15_488 and net.fc1.out_features == 4_608
    assert net.fc2.in_features == 2_304 and net.fc2.out_features == 2_304


def test_new_models_reuse_compiled_code():
    """Every build is of one class, so torch.compile's guards hold for a fresh model of the
    same variant: one compilation serves them all (a class per build recompiled for each
    model, and past dynamo's recompile_limit, 8, silently ran eagerly; seen on CUDA, where
    it broke a mid-epoch resume's bit-exactness)."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    counter = CompileCounter()
    x = torch.rand(2, 3, 96, 96)
    for seed in range(10):
        torch.manual_seed(seed)
        net = build(VARIANTS["shallow-pan-tiny"])
        with torch.no_grad():
            torch.compile(net, backend=counter)(x)
    assert counter.frame_count == 1
    assert type(build(VARIANTS["shallow-pan"])) is type(net)


def test_maxout_takes_adjacent_pairs():
    net = build(VARIANTS["shallow-pan-tiny"])
    z = torch.tensor([[1.0, 5.0, -2.0, -3.0, 7.0, 7.0]])
    assert net.maxout(z).tolist() == [[5.0, -2.0, 7.0]]
    # in the network: fc1's units (2k, 2k+1) feed maxout unit k
    with torch.no_grad():
        net.fc1.weight.zero_()
        net.fc1.bias.copy_(torch.arange(128, dtype=torch.float32) * torch.tensor([-1.0, 1.0]
                                                                                 ).repeat(64))
        net.fc2.weight.zero_()
        net.fc2.bias.zero_()
        net.fc2.weight[0, 3] = 1.0  # read maxout unit 3 = max(-6, 7) = 7
        out = net(torch.rand(1, 3, 96, 96))
    assert out[0, 0, 0].item() == 7.0


def test_initialisation():
    torch.manual_seed(0)
    net = build(VARIANTS["shallow-pan"])
    w = net.fc1.weight.detach()
    assert abs(w.std().item() - 0.01) < 1e-4 and abs(w.mean().item()) < 1e-4
    for m in (net.features[0], net.features[3], net.fc1, net.fc2):
        assert torch.all(m.bias == 0.1)
    small = build(VARIANTS["shallow-pan-small"])
    assert torch.all(small.features[0].bias == 0.0)  # He init: zero conv biases
    assert abs(small.features[0].weight.std().item() - (2 / 75) ** 0.5) < 0.05


def test_paper_pools_round_up():
    cfg = ShallowConfig(padding=(0, 0, 0), ceil_pools=True)
    net = build(cfg)
    x = torch.rand(1, 3, 96, 96)
    sides = []
    for layer in net.features:
        x = layer(x)
        sides.append(x.shape[-1])
    assert sides == [92, 92, 46, 44, 44, 22, 20, 20, 10]


def test_registry_did_you_mean_and_torch_free_listing():
    with pytest.raises(ValueError, match="did you mean 'shallow-pan'"):
        registry.get_card("shalow-pan")
    with pytest.raises(ValueError, match="unknown model 'zzz'"):
        registry.create("zzz")
    code = ("import sys, salbench.registry as r; r.cards(); "
            "[c.param_count() for c in r.cards().values()]; "
            "assert 'torch' not in sys.modules, 'listing models imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "shallow-pan-tiny" not in registry.names()
    assert "shallow-pan-tiny" in registry.names(include_test=True)


def test_cards_parse_with_reported_scores():
    cards = registry.cards()
    rep = {r.label: r for c in cards.values() for r in c.reported}
    ours = rep["replication study: our results"]
    assert (ours.protocol, ours.dataset) == ("replication", "salicon")
    assert ours.scores == {"cc": 0.659, "sauc": 0.556, "auc_borji": 0.715}
    assert rep["Pan et al. 2016: shallow convnet"].protocol == "pan2016"


def test_bad_cards_are_refused(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text('name = "x"\nkind = "gadget"\nentry = "a:b"\nsummary = "s"\n')
    with pytest.raises(ValueError, match="kind must be"):
        registry._parse(bad)
    bad.write_text('name = "x"\nkind = "network"\nsummary = "s"\n')
    with pytest.raises(ValueError, match="lacks entry"):
        registry._parse(bad)
    bad.write_text("not toml [")
    with pytest.raises(ValueError, match="unreadable model card"):
        registry._parse(bad)


@pytest.mark.parametrize("text, key", [
    ('[train]\nepohcs = 5\n', "epohcs"),  # a typo in the recipe: refused, not dropped
    ('varient = "shallow-pan"\n', "varient"),
    ('[[reported]]\nlabel = "l"\nsource = "s"\ndataset = "d"\nprotocol = "p"\nccc = 0.5\n',
     "ccc"),
])
def test_misspelt_card_keys_are_refused_with_card_and_key(tmp_path, text, key):
    card = tmp_path / "typo.toml"
    card.write_text('name = "x"\nkind = "network"\nentry = "salbench.nets.network:NetworkModel"'
                    '\nsummary = "s"\n' + ("" if "varient" in text else
                                             'variant = "shallow-pan"\n') + text)
    with pytest.raises(ValueError, match=rf"unknown key '{key}'.*typo\.toml"):
        registry._parse(card)


def test_nets_and_plots_import_no_torch():
    """Like --help: importing the networks' package or the plots imports no torch until a
    network is built (the training config and log reader are torch-free)."""
    code = ("import sys, salbench.plots, salbench.nets, salbench.nets.training, "
            "salbench.nets.shallow_pan, salbench.rundir; "
            "from salbench.nets.training import TrainConfig, read_log; TrainConfig(); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_installed_wheel_carries_the_cards(tmp_path):
    """A non-editable install finds the cards (the wheel ships models/ as salbench/_cards)
    and the kernel signature list."""
    pytest.importorskip("hatchling")
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(root)], check=True)
    wheel = next((tmp_path / "dist").glob("salbench-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        cards = [n for n in z.namelist() if n.startswith("salbench/_cards/")]
        assert "salbench/metrics/kernel_signatures.json" in z.namelist()  # compiling ahead
    assert "salbench/_cards/shallow-pan.toml" in cards
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True)
    code = ("import salbench.registry as r; d = r.cards_dir(); "
            "assert d.name == '_cards', d; assert 'shallow-pan' in r.cards(); print(d); "
            "from salbench.metrics import _ahead; assert _ahead.manifest()['uses']")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True)
    assert str(tmp_path / "site") in out.stdout


def test_baselines(rng):
    from salbench.data import synth
    from salbench.nets.baselines import CenterBias, Oracle, SpectralResidual, Uniform

    s = synth.generate_split(synth.SynthConfig(n_train=6, n_val=6), "val")
    cb = CenterBias().fit_map(s)
    assert cb.sigma in CenterBias.SIGMAS and cb.map.max() == 1.0
    assert cb.predict(s).shape == (6, 48, 48)
    np.testing.assert_array_equal(Oracle().predict(s), s.extras["density"])
    assert SpectralResidual().predict(s).shape == (6, 48, 48)
    assert np.ptp(Uniform().predict(s)) == 0
    s.extras.clear()
    with pytest.raises(ValueError, match="only the synthetic set has"):
        Oracle().predict(s)
