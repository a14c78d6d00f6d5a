"""Settings in one place. Precedence: defaults < config file (XMODAL_CONFIG) < environment (XMODAL_*) < CLI flags."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from xmodal.errors import Invalid

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DeviceChoice = Literal["auto", "cpu", "cuda"]
DEFAULT_MODEL = "xmodal-base"
CONFIG_ENV = "XMODAL_CONFIG"


def _default_workers() -> int:
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores - 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XMODAL_", extra="ignore")

    store: Path = Field(Path("xmodal-store"), description="store directory (SQLite + FAISS)")
    database_url: str | None = Field(
        None,
        description="metadata database as an SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db); "
        "default: SQLite in the store directory",
    )
    model: str | None = Field(
        None, description="model name or open_clip:ARCH@PRETRAINED; default: the store's, else xmodal-base"
    )
    device: DeviceChoice = "auto"
    batch_size: int = Field(32, ge=1)
    max_audio_seconds: float = Field(
        60.0, gt=0, description="audio beyond this is ignored when indexing; longer query uploads are refused"
    )
    max_image_pixels: int = Field(50_000_000, gt=0, description="decompression-bomb guard")
    # Videos: frames cost the same however long the video (they are reached by seeking), so the duration
    # cap is there for endless or lying headers, not for cost. The soundtrack is cut at max_audio_seconds.
    video_frames: int = Field(8, ge=1, le=64, description="frames sampled evenly over each video's duration")
    max_video_seconds: float = Field(4 * 3600.0, gt=0, description="longer (or endless) videos are refused")
    max_video_pixels: int = Field(
        4096 * 2160, gt=0, description="videos with larger frames (width x height) are refused before decoding"
    )
    max_upload_pixels: int = Field(
        16_000_000, gt=0, description="uploaded images that decode to more pixels are refused (JPEGs count reduced)"
    )
    upload_decoders: int = Field(2, ge=1, description="uploads decoded at once, off the event loop; others wait")
    max_text_chars: int = Field(20_000, gt=0)
    decode_max_side: int = Field(768, ge=64, description="images are shrunk to this before encoding")
    # Decoder processes. With 2 cores the encoder's threads already use both, and a decoder process
    # only competes (sample corpus: 30.7 items/s inline vs 23.2 with one worker), so decode in a thread.
    workers: int = Field(
        _default_workers(), ge=0, description="decoder processes; 0 decodes in one thread beside the encoder"
    )
    ray: str | None = Field(
        None,
        description="embed on a Ray cluster: its address (auto, HOST:PORT, ray://HOST:10001), or 'default' for "
        "Ray's own choice (RAY_ADDRESS, a cluster started on this machine, else a new local one)",
    )
    ray_workers: int = Field(0, ge=0, description="Ray embedding workers; 0: one per GPU, else one per two CPUs")
    index_type: Literal["auto", "flat", "ivf", "ivfpq"] = "auto"
    vector_backend: str | None = Field(
        None,
        description="vector backend of a new store: faiss (default), numpy, or a dotted path; a store keeps its own",
    )
    checkpoint_seconds: float = Field(30.0, gt=0, description="how often a job saves index files")
    max_upload_bytes: int = Field(50 * 1024 * 1024, gt=0)
    max_json_bytes: int = Field(
        1024 * 1024, gt=0, description="largest JSON request body (files go as multipart, up to max_upload_bytes)"
    )
    # Slow or many clients (xmodal.api.server): a request head must arrive whole within header_timeout_seconds,
    # a body may pause at most body_timeout_seconds, and connections beyond the caps are closed at once.
    header_timeout_seconds: float = Field(10.0, gt=0, description="time a connection has to send a request head")
    body_timeout_seconds: float = Field(30.0, gt=0, description="longest silence while a request body arrives")
    keep_alive_seconds: int = Field(5, ge=1, description="an idle keep-alive connection is closed after this")
    max_connections: int = Field(500, ge=1, description="open connections; more are closed at once")
    max_connections_per_client: int = Field(
        50, ge=0, description="open connections from one address (0: no cap; raise it behind a reverse proxy)"
    )
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="largest request head; one growing past it is 400")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: SecretStr | None = Field(
        None, description="key for mutating API endpoints; with none the API is read-only"
    )
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="server directories POST /jobs may index"
    )
    public_path_base: Path | None = Field(
        None,
        description="API results and errors show file paths relative to this folder (files outside it by name "
        "only) and take relative path_prefix filters in it; unset: absolute server paths",
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host headers the API answers (e.g. search.example.org, *.example.org); empty: any",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="browser origins allowed to call the API"
    )
    log_format: Literal["json", "text"] = Field("json", description="API logs: one JSON object per line, or plain text")

    @field_validator("allowed_roots", "cors_origins", "trusted_hosts", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """The environment gives lists as a JSON array or comma-separated text."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get(CONFIG_ENV)
        file_source = (ConfigFile(settings_cls, Path(config_file)),) if config_file else ()
        return (init_settings, env_settings, *file_source)

    def with_overrides(self, **overrides: object) -> "Settings":
        """Apply CLI flags that were actually given (None means not given), validated like the rest."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return type(self)(**{**self.model_dump(), **given})


class ConfigFile(PydanticBaseSettingsSource):
    """A TOML file of settings (`port = 8080`, `allowed_roots = ["/srv/media"]`); unknown keys are refused."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        try:
            with open(path, "rb") as handle:
                self.values: dict[str, Any] = tomllib.load(handle)
        except OSError as error:
            raise Invalid(f"config file {path} ({CONFIG_ENV}): {error.strerror or error}") from None
        except tomllib.TOMLDecodeError as error:
            raise Invalid(f"config file {path} ({CONFIG_ENV}) is not valid TOML: {error}") from None
        unknown = sorted(set(self.values) - set(settings_cls.model_fields))
        if unknown:
            valid = ", ".join(settings_cls.model_fields)
            raise Invalid(f"config file {path}: unknown setting(s) {', '.join(unknown)}; valid settings: {valid}")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)
