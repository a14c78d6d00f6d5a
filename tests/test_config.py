from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from xmodal.config import Settings
from xmodal.device import pick_device


def test_precedence_defaults_then_environment_then_flags(monkeypatch) -> None:
    assert Settings().batch_size == 32
    monkeypatch.setenv("XMODAL_BATCH_SIZE", "8")
    monkeypatch.setenv("XMODAL_STORE", "/env/store")
    settings = Settings()
    assert (settings.batch_size, settings.store) == (8, Path("/env/store"))
    flagged = settings.with_overrides(batch_size=4, store=None)
    assert (flagged.batch_size, flagged.store) == (4, Path("/env/store"))


def test_bad_values_are_refused(monkeypatch) -> None:
    with pytest.raises(ValidationError):
        Settings().with_overrides(device="gpu")
    monkeypatch.setenv("XMODAL_MAX_AUDIO_SECONDS", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_device_choice_falls_back_to_cpu_and_names_the_choices() -> None:
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        pick_device("tpu")
