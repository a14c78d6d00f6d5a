"""Vector backends by name: `faiss` (the default; CPU or GPU), `numpy` (exact, for tests and tiny
stores), or a plugin's class as a dotted path (`package.module:Class` or `package.module.Class`).
A store records the backend that filled it. Backends are imported when first used, so a store that
does not use FAISS never loads it."""

from __future__ import annotations

import importlib
from pathlib import Path

from xmodal.errors import Invalid, Unavailable
from xmodal.store.vectors.base import VectorBackend

BACKENDS = {
    "faiss": "xmodal.store.vectors.faiss_backend:FaissBackend",
    "numpy": "xmodal.store.vectors.numpy_backend:NumpyBackend",
}
DEFAULT_BACKEND = "faiss"
INSTALL = {"faiss": "pip install faiss-cpu (or faiss-gpu on a CUDA machine)"}

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "VectorBackend", "backend_class", "open_backend"]


def backend_class(name: str) -> type[VectorBackend]:
    target = BACKENDS.get(name, name)
    module_name, _, class_name = target.partition(":") if ":" in target else target.rpartition(".")
    if not module_name or not class_name:
        raise Invalid(
            f"unknown vector backend {name!r}; choose one of: {', '.join(BACKENDS)}, or a dotted path to a class"
        )
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except ImportError as error:
        hint = INSTALL.get(name, f"install the package that provides {module_name}")
        raise Unavailable(f"vector backend {name!r} cannot be imported ({error}): {hint}") from None
    except AttributeError:
        raise Invalid(f"vector backend {name!r}: {module_name} has no {class_name}") from None
    if not (isinstance(found, type) and issubclass(found, VectorBackend)):
        raise Invalid(f"vector backend {name!r} is not a VectorBackend")
    return found


def open_backend(name: str, stem: Path, dim: int) -> VectorBackend:
    return backend_class(name)(stem, dim)
