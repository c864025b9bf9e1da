"""oauth_helper.record behaves as the dataclasses it replaces did, where this package relies on it."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from collections.abc import Callable

import pytest

from oauth_helper.record import FrozenInstanceError, field, record, replace


@record
class Pair:
    name: str
    secret: str = field(repr=False)
    count: int = 0
    tags: list[str] = field(default_factory=list)
    note: str | None = field(default=None, repr=False)


@record(frozen=False)
class Mutable:
    text: str
    n: int = 1


@dataclasses.dataclass(frozen=True)
class PairDC:
    name: str
    secret: str = dataclasses.field(repr=False)
    count: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    note: str | None = dataclasses.field(default=None, repr=False)


def test_constructor_positional_keyword_and_defaults() -> None:
    p = Pair("a", "s")
    assert (p.name, p.secret, p.count, p.tags, p.note) == ("a", "s", 0, [], None)
    q = Pair("a", secret="s", count=3, note="n")
    assert (q.count, q.note) == (3, "n")
    assert Pair("a", "s").tags is not Pair("a", "s").tags  # a fresh default for each


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'name'"),
        (("a",), {}, "missing required argument: 'secret'"),
        (("a", "s"), {"nope": 1}, "unexpected keyword argument 'nope'"),
        (("a", "s"), {"name": "b"}, "multiple values for argument 'name'"),
        (("a", "s", 1, [], None, "extra"), {}, "takes 5 positional arguments"),
    ],
)
def test_constructor_errors_like_a_dataclass(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Pair(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PairDC(*args, **kwargs)  # type: ignore[arg-type]


def test_repr_matches_dataclasses_and_hides_secret_fields() -> None:
    p = Pair("a", "hunter2", 2, ["x"], note="private")
    dc = PairDC("a", "hunter2", 2, ["x"], note="private")
    assert repr(p) == repr(dc).replace("PairDC", "Pair") == "Pair(name='a', count=2, tags=['x'])"
    assert "hunter2" not in repr(p) and "private" not in repr(p)


def test_immutable_equal_and_hashable_by_value() -> None:
    p = Pair("a", "s", 1)
    with pytest.raises(FrozenInstanceError):
        p.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):  # FrozenInstanceError is one, as in dataclasses
        del p.name  # type: ignore[misc]
    assert p == Pair("a", "s", 1) and p != Pair("a", "s", 2)
    assert p != PairDC("a", "s", 1)  # another class is never equal
    frozen = Pair("a", "s", 1, tags=())  # type: ignore[arg-type]
    assert hash(frozen) == hash(Pair("a", "s", 1, tags=()))  # type: ignore[arg-type]
    assert {frozen, Pair("a", "s", 1, tags=())} == {frozen}  # type: ignore[arg-type]


def test_mutable_records_change_and_are_not_hashable() -> None:
    m = Mutable("x")
    m.n = 5
    assert m == Mutable("x", 5)
    with pytest.raises(TypeError):
        hash(m)


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    p = Pair("a", "s", 1, ["t"])
    q = replace(p, count=2)
    assert (q.name, q.secret, q.count, q.tags) == ("a", "s", 2, ["t"]) and p.count == 1
    assert replace(p) == p and replace(p) is not p
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(p, nope=1)


def test_post_init_runs_after_the_fields_are_set() -> None:
    seen: list[str] = []

    @record
    class Checked:
        value: str

        def __post_init__(self) -> None:
            seen.append(self.value)

    Checked("v")
    assert seen == ["v"]


def test_pickle_round_trip() -> None:
    p = Pair("a", "s", 3, ["t"])
    assert pickle.loads(pickle.dumps(p)) == p


def test_the_package_never_imports_dataclasses() -> None:
    """One way to write a record: no module of the package uses dataclasses (the refresh path's
    imports are checked in tests/integration/test_token_engine.py)."""
    probe = (
        "import sys, pkgutil, importlib, oauth_helper\n"
        "for m in pkgutil.walk_packages(oauth_helper.__path__, 'oauth_helper.'):\n"
        "    if m.name != 'oauth_helper.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "print('dataclasses' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "False"


def _shout(text: str) -> str:
    return text.upper()


def test_a_function_as_default_is_the_function_not_a_method() -> None:
    """A default lives on each record, as in dataclasses: a function default left on the class
    would be found as a bound method (the record passed as its first argument)."""

    @record
    class WithCallback:
        say: Callable[[str], str] = _shout

    assert WithCallback().say("hi") == "HI"
    assert WithCallback().say is _shout
    assert "WithCallback(say=<function _shout" in repr(WithCallback())
