"""Records: classes of named fields with a generated __init__, __repr__, __eq__ and __hash__,
immutable unless asked otherwise. The part of `dataclasses` this package uses, at a fraction of
its cost.

`dataclasses` imports inspect (and with it ast, dis, tokenize, enum) and compiles every class's
methods with exec(). A refresh defines fourteen such classes: that was about a fifth of the
CPU time a refresh costs, on the path 32 mail clients may take at the same moment. A record's
methods are the same few functions for every class, reading the field list the decorator
stores on it; type checkers read `@record` as they read `@dataclass(frozen=True)` (PEP 681).

Supported: field order from the class's annotations, defaults, `field(default=, default_factory=,
repr=)`, `__post_init__`, `replace()`. Not: inheritance of fields, ClassVar, InitVar, slots.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `import typing`: records are defined on the refresh path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    R = TypeVar("R")
else:

    def dataclass_transform(**_: object) -> object:
        return lambda f: f


class FrozenInstanceError(AttributeError):
    """Assigning to a field of an immutable record."""


_MISSING: Any = object()


class _Field:
    __slots__ = ("default", "factory", "repr")

    def __init__(self, default: Any, factory: Callable[[], Any] | None, repr: bool) -> None:
        self.default = default
        self.factory = factory
        self.repr = repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    repr: bool = True,
) -> Any:
    """A field's default (or a function making one for each record), and whether repr() shows it
    (False for secrets)."""
    return _Field(default, default_factory, repr)


class _Spec:
    """What the shared methods need to know about one record class."""

    __slots__ = ("defaults", "factories", "names", "shown")

    def __init__(self, cls: type) -> None:
        # The class's own annotations, in order (not inspect.get_annotations: inspect is the
        # import this module exists to avoid). Python 3.14 computes them on first access.
        own = cls.__dict__.get("__annotations__")  # noqa: RUF063
        self.names: tuple[str, ...] = tuple(own if own is not None else cls.__annotations__)
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        shown = []
        for name in self.names:
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Field):
                # As dataclasses leave it: the class attribute is the default, if any.
                if value.factory is not None:
                    self.factories[name] = value.factory
                    delattr(cls, name)
                elif value.default is _MISSING:
                    delattr(cls, name)
                else:
                    self.defaults[name] = value.default
                    setattr(cls, name, value.default)
                if value.repr:
                    shown.append(name)
            else:
                if value is not _MISSING:
                    self.defaults[name] = value
                shown.append(name)
        self.shown = tuple(shown)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    spec: _Spec = type(self).__record__
    cls_name = type(self).__name__
    if len(args) > len(spec.names):
        raise TypeError(f"{cls_name}() takes {len(spec.names)} positional arguments")
    values = dict(zip(spec.names, args, strict=False))  # fewer args: defaults follow
    for name, value in kwargs.items():
        if name not in spec.names:
            raise TypeError(f"{cls_name}() got an unexpected keyword argument {name!r}")
        if name in values:
            raise TypeError(f"{cls_name}() got multiple values for argument {name!r}")
        values[name] = value
    for name in spec.names:
        if name in values:
            continue
        if name in spec.defaults:
            values[name] = spec.defaults[name]
        elif name in spec.factories:
            values[name] = spec.factories[name]()
        else:
            raise TypeError(f"{cls_name}() missing required argument: {name!r}")
    # Every field is set on the instance, defaults too: one left to the class attribute would
    # come back as a bound method if it is a function.
    for name, value in values.items():
        object.__setattr__(self, name, value)
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _astuple(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record__.names)


def _repr(self: Any) -> str:
    shown = type(self).__record__.shown
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]
    return _astuple(self) == _astuple(other)


def _hash(self: Any) -> int:
    return hash(_astuple(self))


def _refuse(self: Any, name: str, *_: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to {name!r}: {type(self).__name__} is immutable")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = True) -> Any:
    """`@record` (immutable) or `@record(frozen=False)`."""

    def make(cls: type[R]) -> type[R]:
        spec = _Spec(cls)
        methods: dict[str, Any] = {
            "__record__": spec,
            "__init__": _init,
            "__repr__": _repr,
            "__eq__": _eq,
            "__match_args__": spec.names,
        }
        if frozen:
            methods["__setattr__"] = methods["__delattr__"] = _refuse
        for name, method in methods.items():
            if name not in cls.__dict__:  # a method the class defines itself wins
                setattr(cls, name, method)
        if cls.__dict__.get("__hash__") is None:  # None: set so by defining __eq__, or unset
            # Like dataclasses: hashable by value when immutable, not hashable when not.
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
        return cls

    return make if cls is None else make(cls)


def replace(obj: R, /, **changes: Any) -> R:
    """A copy of the record `obj` with some fields changed, as dataclasses.replace makes."""
    spec: _Spec = type(obj).__record__  # type: ignore[attr-defined]
    values = {name: getattr(obj, name) for name in spec.names}
    for name in changes:
        if name not in values:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
    values.update(changes)
    return type(obj)(**values)
