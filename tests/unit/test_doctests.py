"""The examples in the package's docstrings are tests too."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import oauth_helper

MODULES = sorted(m.name for m in pkgutil.walk_packages(oauth_helper.__path__, "oauth_helper."))


@pytest.mark.parametrize("name", [m for m in MODULES if m != "oauth_helper.__main__"])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
