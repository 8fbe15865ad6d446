"""salbench under a locale that is not UTF-8 (a POSIX "C" locale without Python's UTF-8
mode, a latin-1 server, ``PYTHONIOENCODING=ascii``): every command ended in a traceback.
Reading its own kernels' source (for the cache's digests) failed before any scoring, and
printing a table failed after the work was done."""

import json
import os
import subprocess
import sys

import numpy as np

from salbench.console import _ERRORS, readable_streams

# Python's own defaults for a C locale are UTF-8 (coercion, UTF-8 mode): both off
NOT_UTF8 = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def _salbench(*args: str) -> subprocess.CompletedProcess:
    from numba.core import config

    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    env.update(NOT_UTF8, NUMBA_CACHE_DIR=str(config.CACHE_DIR))
    return subprocess.run([sys.executable, "-m", "salbench", *args], env=env,
                          capture_output=True)


def test_the_locale_is_ascii_in_these_processes():
    code = ("import codecs, locale, sys; print(*(codecs.lookup(e).name for e in "
            "(locale.getpreferredencoding(), sys.stdout.encoding)))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    out = subprocess.run([sys.executable, "-c", code], env={**env, **NOT_UTF8},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["ascii", "ascii"]


def test_commands_score_store_and_print_without_utf8(workdir):
    np.save(workdir / "p.npy", np.random.default_rng(0).random((12, 48, 48)))
    p = _salbench("score", "p.npy", "--protocol", "exact", "--metrics", "cc,auc_borji",
                  "--out", "r.json")
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-1500:]
    assert b"cc ^" in p.stdout and b"auc_borji ^" in p.stdout
    assert json.loads((workdir / "r.json").read_text(encoding="utf-8"))["name"] == "p"
    for args in (["leaderboard"], ["metrics"], ["models"]):
        p = _salbench(*args)
        assert p.returncode == 0, (args, p.stderr.decode(errors="replace")[-1500:])
    assert b"synth-s0-24x12 - exact" in _salbench("leaderboard").stdout


def test_salbench_characters_become_ascii_look_alikes():
    readable_streams()  # registers the handler
    text = "cc ↑ kld ↓ A − B — 0.1–0.2 σ … é"
    assert text.encode("ascii", errors=_ERRORS) == b"cc ^ kld v A - B - 0.1-0.2 s ... ?"
    assert text.encode("utf-8", errors=_ERRORS) == text.encode("utf-8")
