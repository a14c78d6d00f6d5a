from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from tests.conftest import tone
from xmodal import modalities
from xmodal.encoders.media import MediaError, load_audio, load_image, load_text

BIG = 50_000_000


def modality_for_path(path: Path) -> str | None:
    found = modalities.for_path(path)
    return None if found is None else found.name


def sniff_modality(data: bytes) -> str | None:
    found = modalities.sniff(data)
    return None if found is None else found.name


def test_transparent_image_is_composited_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    image.save(tmp_path / "cutout.png")
    rgb = load_image(tmp_path / "cutout.png", BIG)
    assert rgb.mode == "RGB"
    assert rgb.getpixel((5, 5)) == (255, 255, 255)
    assert rgb.getpixel((0, 0)) == (255, 0, 0)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert load_image(tmp_path / "rotated.jpg", BIG).size == (20, 40)


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    red, green, blue = load_image(tmp_path / "anim.gif", BIG).getpixel((5, 5))
    assert red > 200 and blue < 50


def test_decompression_bomb_is_refused_with_the_reason(tmp_path: Path) -> None:
    Image.new("L", (3000, 2000)).save(tmp_path / "wide.png")
    with pytest.raises(MediaError, match="decompression-bomb"):
        load_image(tmp_path / "wide.png", max_pixels=1_000_000)


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_corrupt_images_raise_media_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(MediaError):
        load_image(tmp_path / "bad.png", BIG)


def test_truncated_jpeg_raises_media_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(MediaError, match="truncated"):
        load_image(tmp_path / "cut.jpg", BIG)


def test_stereo_audio_is_mixed_to_mono_and_capped(tmp_path: Path) -> None:
    rate = 8000
    left = np.ones(rate * 3, dtype=np.float32) * 0.5
    soundfile.write(tmp_path / "stereo.wav", np.stack([left, -left * 0.0], axis=1), rate)
    audio = load_audio(tmp_path / "stereo.wav", max_seconds=1.5)
    assert audio.samples.ndim == 1
    assert audio.seconds == pytest.approx(1.5)
    assert audio.samples.mean() == pytest.approx(0.25, abs=1e-3)


def test_ogg_and_flac_decode(tmp_path: Path) -> None:
    for name in ("a.ogg", "a.flac"):
        audio = load_audio(tone(tmp_path / name, 440, seconds=0.5), 10)
        assert audio.sample_rate == 16000 and 0.4 < audio.seconds <= 0.6


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk", b"\xff" * 1000])
def test_corrupt_audio_raises_media_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(MediaError):
        load_audio(tmp_path / "bad.wav", 10)


def test_text_files(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffcafé au lait\n".encode("utf-8"))
    assert load_text(tmp_path / "bom.txt", 100) == "café au lait"
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 noir".encode("latin-1"))
    with pytest.raises(MediaError, match="not UTF-8"):
        load_text(tmp_path / "latin1.txt", 100)
    (tmp_path / "blank.txt").write_text("  \n ")
    with pytest.raises(MediaError, match="empty"):
        load_text(tmp_path / "blank.txt", 100)
    (tmp_path / "long.txt").write_text("é" * 50)
    assert load_text(tmp_path / "long.txt", 10) == "é" * 10


def test_modality_by_extension_and_sniffing(tmp_path: Path) -> None:
    assert modality_for_path(Path("x/Photo.JPG")) == "image"
    assert modality_for_path(Path("a.opus")) == "audio"
    assert modality_for_path(Path("notes.md")) == "text"
    assert modality_for_path(Path("archive.zip")) is None
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    assert sniff_modality(buffer.getvalue()) == "image"
    assert sniff_modality(tone(tmp_path / "t.wav", 300).read_bytes()) == "audio"
    assert sniff_modality(b"hello world") is None
