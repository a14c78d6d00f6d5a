"""The modality table: lookups, and a new modality reaching walking, decoding and encoding from one entry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.fakes import DIM, FakeEncoder
from xmodal import modalities
from xmodal.encoders import Encoder
from xmodal.errors import Invalid
from xmodal.indexer import collect_sources
from xmodal.indexer.decode import decode, hash_source
from xmodal.modalities import Limits, Modality

LIMITS = Limits(10**8, None, 10.0, 1000)


def test_every_modality_is_complete() -> None:
    assert modalities.NAMES == ("image", "audio", "text")
    for modality in modalities.REGISTRY.values():
        assert modality.extensions and all(ext.startswith(".") and ext == ext.lower() for ext in modality.extensions)
        assert hasattr(Encoder, modality.encoder_method) and callable(modality.load)
        assert modality.uploadable == (modality.sniff is not None)
    assert [m.name for m in modalities.uploadable()] == ["image", "audio"]
    assert (
        modalities.upload_formats().startswith("images (JPEG, PNG") and " or sounds (WAV" in modalities.upload_formats()
    )


def test_lookups_name_the_choices() -> None:
    assert modalities.for_path("a/B.TIFF").name == "image" and modalities.for_path("x.zip") is None
    assert modalities.get("audio").label == "sound"
    with pytest.raises(Invalid, match="unknown modality 'video'; choose one of: image, audio, text"):
        modalities.get("video")


def test_uploads_refuse_long_sounds_but_indexing_cuts_them(tmp_path: Path) -> None:
    from tests.conftest import tone

    sound = tone(tmp_path / "long.wav", 440, seconds=3.0)
    assert modalities.AUDIO.load(sound, dataclasses.replace(LIMITS, max_audio_seconds=1.0)).seconds == pytest.approx(
        1.0
    )
    with pytest.raises(Invalid, match="at most 1 s"):
        modalities.AUDIO.load(sound, dataclasses.replace(LIMITS, max_audio_seconds=1.0, refuse_longer_audio=True))


class VideoEncoder(FakeEncoder):
    def _encode_video(self, clips) -> torch.Tensor:
        return torch.ones((len(clips), DIM))


def test_a_new_modality_is_one_entry(tmp_path: Path, monkeypatch) -> None:
    video = Modality(
        "video",
        "video",
        "videos",
        frozenset({".mp4"}),
        "MP4",
        lambda source, limits: f"frames of {source.name}",  # indexing hands loaders an open file
        encoder_method="_encode_video",
    )
    monkeypatch.setitem(modalities.REGISTRY, "video", video)
    (tmp_path / "clip.MP4").write_bytes(b"not really a video")
    [source] = list(collect_sources([tmp_path]))
    assert source.modality == "video"
    media, error = decode(source, LIMITS)
    assert error is None and media == f"frames of {source.path}" and hash_source(source).size == 18
    encoder = VideoEncoder(modalities=("text", "image", "audio", "video"))
    vectors = encoder.encode("video", [media])
    assert vectors.shape == (1, DIM) and np.isclose(np.linalg.norm(vectors[0]), 1.0)
