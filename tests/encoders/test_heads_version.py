"""The heads' digest is part of xmodal-base's version, so a store built with other heads refuses the
model (issue 8, tests: dropping the digest was not caught). Builds the encoder only: towers load lazily."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

from xmodal.encoders.registry import resolve_spec
from xmodal.encoders.xmodal_base import XmodalBase, heads_path
from xmodal.store import Store, StoreError


def test_other_heads_are_another_model_version_and_a_store_refuses_them(tmp_path: Path) -> None:
    spec = resolve_spec("xmodal-base")
    retrained = tmp_path / "retrained.safetensors"
    shutil.copyfile(heads_path(spec), retrained)
    data = bytearray(retrained.read_bytes())
    data[-1] ^= 1  # one weight differs: the file still loads
    retrained.write_bytes(bytes(data))
    shipped = XmodalBase(spec, torch.device("cpu"), 1).info
    other_spec = dataclasses.replace(spec, options={**spec.options, "heads": str(retrained)})
    other = XmodalBase(other_spec, torch.device("cpu"), 1).info
    assert shipped.version.startswith(f"{spec.version}+") and other.version.startswith(f"{spec.version}+")
    assert shipped.version != other.version
    Store.open(tmp_path / "store", shipped.identity(), writable=True).close()
    with pytest.raises(StoreError):
        Store.open(tmp_path / "store", other.identity(), writable=True)
