"""Videos decoded with PyAV: frames spread over the duration and the soundtrack, in bounded memory; hostile
videos (garbage, truncated, lying headers, frame-size bombs, missing streams) are MediaErrors with a reason."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.videos import write_video
from xmodal import modalities
from xmodal.config import Settings
from xmodal.encoders import video as video_module
from xmodal.encoders.media import MediaError
from xmodal.encoders.video import VideoCaps, load_soundtrack, load_video, load_video_frame
from xmodal.files import open_regular
from xmodal.modalities import Limits

CAPS = VideoCaps(frames=8, seconds=3600.0, pixels=8_000_000, side=32, audio_seconds=60.0)
RED, YELLOW = (255, 0, 0), (255, 255, 0)


def near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return max(abs(a - b) for a, b in zip(pixel, colour)) < 24


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".mkv", ".mov"])
def test_frames_span_the_video_and_the_soundtrack_is_mono_audio(tmp_path: Path, suffix: str) -> None:
    path = write_video(tmp_path / f"clip{suffix}", seconds=2.0)
    with open_regular(path) as handle:  # as indexing passes it: an open file named by its path
        video = load_video(handle, CAPS)
    assert 4 <= len(video.frames) <= 8 and len(video.times) == len(video.frames)
    assert list(video.times) == sorted(set(video.times)) and 0.0 <= video.times[0] and video.times[-1] < 2.0
    assert video.seconds == pytest.approx(2.0, abs=0.05)
    assert all(frame.mode == "RGB" and frame.size == (32, 24) for frame in video.frames)  # 64x48 shrunk to 32
    assert near(video.frames[0].getpixel((5, 5)), RED) and near(video.frames[-1].getpixel((5, 5)), YELLOW)
    seen = {
        colour
        for frame in video.frames
        for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255), YELLOW)
        if near(frame.getpixel((5, 5)), colour)
    }
    assert len(seen) == 4  # every quarter of the video is represented
    audio = video.audio
    assert audio is not None and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.sample_rate in (44100, 48000) and audio.seconds == pytest.approx(2.0, abs=0.1)
    assert dominant_hz(audio.samples, audio.sample_rate) == pytest.approx(440, abs=5)


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_a_frame_or_the_soundtrack_read_alone_is_what_the_whole_read_gives(tmp_path: Path, suffix: str) -> None:
    path = write_video(tmp_path / f"clip{suffix}", seconds=2.0)
    whole = load_video(path, CAPS)
    alone = [load_video_frame(path, CAPS, index) for index in range(CAPS.frames)]
    assert [time for time, _ in alone] == list(whole.times)
    assert [np.asarray(frame).tolist() for _, frame in alone] == [np.asarray(f).tolist() for f in whole.frames]
    assert np.array_equal(load_soundtrack(path, CAPS).samples, whole.audio.samples)
    with pytest.raises(MediaError, match="no soundtrack"):
        load_soundtrack(write_video(tmp_path / f"silent{suffix}", tone_hz=None), CAPS)


def test_a_short_video_gives_one_frame_per_span_that_has_one(tmp_path: Path) -> None:
    path = write_video(tmp_path / "blink.mkv", seconds=0.5, fps=8, tone_hz=None)  # 4 frames, 8 spans
    assert len(load_video(path, CAPS).frames) == 4
    empty = []
    for index in range(CAPS.frames):
        try:
            load_video_frame(path, CAPS, index)
        except MediaError as error:
            empty.append(str(error))
    assert len(empty) == 4 and all("no decodable frame in part" in reason for reason in empty)


def test_the_frame_count_and_the_soundtrack_are_capped(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", seconds=3.0, fps=20)
    video = load_video(path, dataclasses.replace(CAPS, frames=2, audio_seconds=0.5, side=None))
    assert len(video.frames) <= 2 and video.frames[0].size == (64, 48)
    assert video.audio is not None and video.audio.seconds == pytest.approx(0.5)


def test_frames_are_turned_as_the_video_says_to_show_them(tmp_path: Path) -> None:
    path = write_video(tmp_path / "phone.mp4", colours=((0, 0, 255),), left=RED, rotation=90)
    frame = load_video(path, CAPS).frames[0]
    assert frame.size == (24, 32)  # 64x48 shrunk to 32x24, then shown a quarter turn anticlockwise
    assert near(frame.getpixel((12, 28)), RED) and near(frame.getpixel((12, 4)), (0, 0, 255))  # left went down


def test_frames_are_reached_by_seeking_not_by_decoding_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_video(tmp_path / "long.mkv", seconds=120.0, fps=25, tone_hz=None)  # 3,000 frames
    decoded: list[object] = []
    decode = video_module._decode
    monkeypatch.setattr(video_module, "_decode", lambda packet: decoded.append(packet) or decode(packet))
    video = load_video(path, dataclasses.replace(CAPS, frames=4))
    assert len(video.frames) == 4 and video.times[-1] > 60
    assert len(decoded) <= 4 * video_module.FORWARD_PACKETS < 3000


def test_a_video_without_sound_has_frames_and_no_audio(tmp_path: Path) -> None:
    video = load_video(write_video(tmp_path / "silent.webm", tone_hz=None), CAPS)
    assert video.audio is None and len(video.frames) >= 2


def test_a_file_without_a_video_stream_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no video stream"):
        load_video(write_video(tmp_path / "sound-only.mkv", frames=False), CAPS)


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + bytes(200)])
def test_garbage_named_like_a_video_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "fake.mp4").write_bytes(content)
    with pytest.raises(MediaError, match="not a readable video|corrupt or truncated|empty file"):
        load_video(tmp_path / "fake.mp4", CAPS)


def test_a_truncated_mp4_is_refused_and_a_truncated_matroska_keeps_what_it_has(tmp_path: Path) -> None:
    for suffix in (".mp4", ".mkv"):
        data = write_video(tmp_path / f"whole{suffix}", seconds=2.0).read_bytes()
        (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError):  # an MP4's index (moov) is written last: nothing can be found
        load_video(tmp_path / "cut.mp4", CAPS)
    video = load_video(tmp_path / "cut.mkv", CAPS)  # Matroska is read in order: the first half decodes
    assert 1 <= len(video.frames) < 8 and video.times[-1] < 1.5 and near(video.frames[0].getpixel((5, 5)), RED)


def test_frames_larger_than_the_cap_are_refused_before_decoding(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4")
    with pytest.raises(MediaError, match=r"64x48 .* over the 0.001 MP limit; raise XMODAL_MAX_VIDEO_PIXELS"):
        load_video(path, dataclasses.replace(CAPS, pixels=1000))


def test_a_frame_claiming_huge_dimensions_is_never_decoded(tmp_path: Path) -> None:
    """Motion JPEG whose header says 64x48 but whose every JPEG says 40000x40000 (1.6 GP, 2.4 GB to
    decode): the decoder is given the cap too, so each frame is refused before it is allocated."""
    data = bytearray(write_video(tmp_path / "mjpeg.mkv", codec="mjpeg", tone_hz=None).read_bytes())
    start_of_frame = data.find(b"\xff\xc0")
    while start_of_frame >= 0:
        data[start_of_frame + 5 : start_of_frame + 9] = struct.pack(">HH", 40000, 40000)
        start_of_frame = data.find(b"\xff\xc0", start_of_frame + 2)
    (tmp_path / "bomb.mkv").write_bytes(data)
    with pytest.raises(MediaError, match="no decodable frames"):
        load_video(tmp_path / "bomb.mkv", CAPS)


def matroska_duration(data: bytes) -> int:
    """Offset of the Segment's Duration element (ID 0x4489, an 8-byte float), as FFmpeg writes it."""
    offset = data.find(b"\x44\x89\x88")
    assert offset > 0
    return offset


def test_an_endless_or_overlong_video_is_refused(tmp_path: Path) -> None:
    data = bytearray(write_video(tmp_path / "clip.mkv").read_bytes())
    with pytest.raises(MediaError, match=r"2 s long, over the 1 s limit; raise XMODAL_MAX_VIDEO_SECONDS"):
        load_video(tmp_path / "clip.mkv", dataclasses.replace(CAPS, seconds=1.0))
    at = matroska_duration(data)
    data[at + 3 : at + 11] = struct.pack(">d", 1e15)  # milliseconds: 31,000 years
    (tmp_path / "endless.mkv").write_bytes(data)
    with pytest.raises(MediaError, match="1,000,000,000,000 s long, over the 3,600 s limit"):
        load_video(tmp_path / "endless.mkv", CAPS)


def test_a_video_whose_header_has_no_duration_is_read_from_the_start(tmp_path: Path) -> None:
    data = bytearray(write_video(tmp_path / "clip.webm", seconds=3.0).read_bytes())
    at = matroska_duration(data)
    data[at : at + 11] = b"\xec\x89" + bytes(9)  # the same bytes as a Void element: no duration
    (tmp_path / "recording.webm").write_bytes(data)
    video = load_video(tmp_path / "recording.webm", CAPS)
    assert video.seconds == pytest.approx(3.0, abs=0.15) and 1 <= len(video.frames) <= 8
    assert near(video.frames[0].getpixel((5, 5)), RED) and video.audio is not None
    with pytest.raises(MediaError, match="longer than 1 s .*its header does not say"):
        load_video(tmp_path / "recording.webm", dataclasses.replace(CAPS, seconds=1.0))


def test_the_settings_reach_the_video_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XMODAL_VIDEO_FRAMES", "3")
    monkeypatch.setenv("XMODAL_MAX_VIDEO_PIXELS", "1000")
    limits = Limits.for_indexing(Settings(store=tmp_path / "store"))
    assert (limits.video_frames, limits.max_video_pixels, limits.max_video_seconds) == (3, 1000, 4 * 3600.0)
    with pytest.raises(MediaError, match="over the 0.001 MP limit"):
        modalities.load_video(write_video(tmp_path / "clip.mov"), limits)
    frames = modalities.load_video(
        write_video(tmp_path / "clip.mov"), dataclasses.replace(limits, max_video_pixels=10**6)
    )
    assert len(frames.frames) <= 3
