"""Fast positional constructors for the frozen slots dataclasses made by the hundred thousand.

A frozen dataclass's ``__init__`` stores each field with ``object.__setattr__``, a call per field: at 100k
buses the topology, the per-unit case and the solution spend most of a second in them. :func:`constructor`
returns a callable that takes every field positionally and stores them in the slots directly (the optional
C helper ``cimflow/_records.c``), or the class itself where that helper is not built, ``CIMFLOW_NATIVE=0``
turns native code off, or the class is not a plain frozen slots dataclass. Either way the instance is the
one the class would make from the same values; keywords and defaults go to the class.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from cimflow.config import native_enabled

T = TypeVar("T")


def _load() -> ModuleType | None:
    if not native_enabled():
        return None
    try:
        return importlib.import_module("cimflow._records")
    except ImportError:  # installed without a C compiler
        return None


_NATIVE = _load()


def _plain(cls: type) -> bool:
    """A slots dataclass whose generated ``__init__`` takes exactly its fields and only stores them (no
    ``__post_init__``, no init-only or non-init fields, no ``__init__`` or ``__new__`` of its own)."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return False
    if cls.__new__ is not object.__new__:  # a __new__ of its own would be bypassed
        return False
    init = cls.__init__
    if getattr(getattr(init, "__code__", None), "co_filename", None) != "<string>":  # written by dataclasses
        return False
    names = [f.name for f in dataclasses.fields(cls)]
    params = list(inspect.signature(init).parameters.values())[1:]
    return [p.name for p in params] == names and all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)


def constructor(cls: Callable[..., T]) -> Callable[..., T]:
    """``cls`` itself, or a faster callable making the same instance from all fields given positionally."""
    if _NATIVE is None or not isinstance(cls, type) or not _plain(cls):
        return cls
    names = tuple(f.name for f in dataclasses.fields(cls))
    made: Any = _NATIVE.constructor(cls, names)
    return made  # type: ignore[no-any-return]
