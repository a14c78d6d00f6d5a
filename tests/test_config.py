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


def test_config_file_sits_between_defaults_and_environment(monkeypatch, tmp_path) -> None:
    config = tmp_path / "xmodal.toml"
    config.write_text('port = 9001\nbatch_size = 4\nallowed_roots = ["/srv/media"]\napi_key = "from-file"\n')
    monkeypatch.setenv("XMODAL_CONFIG", str(config))
    monkeypatch.setenv("XMODAL_BATCH_SIZE", "8")
    monkeypatch.setenv("XMODAL_CORS_ORIGINS", "http://a.example, http://b.example")
    settings = Settings()
    assert (settings.port, settings.batch_size, settings.allowed_roots) == (9001, 8, [Path("/srv/media")])
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.api_key.get_secret_value() == "from-file" and "from-file" not in repr(settings)
    assert settings.with_overrides(port=7000).port == 7000


def test_config_file_problems_name_the_file_and_the_choices(monkeypatch, tmp_path) -> None:
    config = tmp_path / "bad.toml"
    monkeypatch.setenv("XMODAL_CONFIG", str(config))
    with pytest.raises(ValueError, match="bad.toml"):
        Settings()
    config.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="unknown setting.*prot.*valid settings: store"):
        Settings()
    config.write_text("port = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        Settings()
