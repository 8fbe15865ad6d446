"""The examples in docstrings run and give what they show."""

import doctest
import importlib

import pytest

from conftest import needs_torch

MODULES = ["salbench.metrics", "salbench.metrics.functional", "salbench.metrics._log",
           "salbench.metrics._quotient",
           pytest.param("salbench.losses", marks=needs_torch)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_lazy_package_answers_missing_names_with_attribute_error():
    """``hasattr`` and tools that probe dunder names (doctest's ``__test__``) need an
    AttributeError, not an import error."""
    import salbench.metrics as metrics

    assert not hasattr(metrics, "__test__")
    assert not hasattr(metrics, "_no_such_kernel_module")
    assert metrics._rng.__name__ == "salbench.metrics._rng"
