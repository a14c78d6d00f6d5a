"""Settings in one place. Precedence: defaults < environment (XMODAL_*) < CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DeviceChoice = Literal["auto", "cpu", "cuda"]
DEFAULT_MODEL = "xmodal-base"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XMODAL_", extra="ignore")

    store: Path = Field(Path("xmodal-store"), description="store directory (SQLite + FAISS)")
    model: str | None = Field(None, description="model name or open_clip:ARCH@PRETRAINED; default: the store's, else xmodal-base")
    device: DeviceChoice = "auto"
    batch_size: int = Field(32, ge=1)
    max_audio_seconds: float = Field(60.0, gt=0, description="audio beyond this is ignored")
    max_image_pixels: int = Field(50_000_000, gt=0, description="decompression-bomb guard")
    max_text_chars: int = Field(20_000, gt=0)
    max_upload_bytes: int = Field(50 * 1024 * 1024, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)

    def with_overrides(self, **overrides: object) -> "Settings":
        """Apply CLI flags that were actually given (None means not given), validated like the rest."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return type(self)(**{**self.model_dump(), **given})
