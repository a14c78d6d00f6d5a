"""Resampling any rate in bounded memory, and audio decoding that refuses hostile headers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from xmodal.encoders.media import MediaError, load_audio
from xmodal.encoders.resample import MAX_TERM, ratio_terms, resample


@pytest.mark.parametrize(
    "rate_in, rate_out",
    [(48000, 44100), (22050, 44100), (44100, 16000), (11025, 16000), (32000, 44100), (96000, 16000)],
)
def test_common_rates_convert_exactly(rate_in: int, rate_out: int) -> None:
    step_in, step_out = ratio_terms(rate_in, rate_out)
    assert step_out * rate_in == step_in * rate_out


@pytest.mark.parametrize(
    "rate_in, rate_out", [(8009, 44100), (44101, 44100), (44056, 44100), (383_999, 16000), (1_009, 44100)]
)
def test_odd_rates_use_small_terms_and_a_nearby_ratio(rate_in: int, rate_out: int) -> None:
    step_in, step_out = ratio_terms(rate_in, rate_out)
    assert max(step_in, step_out) <= MAX_TERM
    assert abs(step_out / step_in - rate_out / rate_in) / (rate_out / rate_in) < 1e-4


def test_resampling_an_odd_rate_keeps_pitch_and_length() -> None:
    rate = 8009
    t = np.arange(rate * 2) / rate
    tone = torch.from_numpy(np.sin(2 * np.pi * 1000.0 * t).astype(np.float32))
    out = resample(tone, rate, 44100).numpy()
    assert abs(len(out) - len(tone) * 44100 / rate) < 0.001 * len(out)
    peak_hz = np.argmax(np.abs(np.fft.rfft(out))) * 44100 / len(out)
    assert abs(peak_hz - 1000.0) < 2.0


def test_hostile_rates_resample_in_bounded_memory() -> None:
    """Before the fix, 8,009 Hz -> 44,100 Hz asked for ~6 GB; measure the peak in a fresh process."""
    script = textwrap.dedent("""
        import resource, torch
        from xmodal.encoders.resample import resample
        resample(torch.zeros(16000), 16000, 44100)  # warm up: torchaudio imported, allocator primed
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for rate in (8009, 44101, 44056):
            resample(torch.randn(rate), rate, 44100)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    grown_kib = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert grown_kib < 300 * 1024, f"resampling grew the process by {grown_kib / 1024:.0f} MB"


def test_absurd_sample_rates_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "slow.wav"
    soundfile.write(path, np.zeros(100, np.float32), 200)
    with pytest.raises(MediaError, match="sample rate 200 Hz"):
        load_audio(path, 60)


def test_many_channels_mix_down_to_mono(tmp_path: Path) -> None:
    path = tmp_path / "wide.wav"
    frames = np.zeros((8000, 64), np.float32)
    frames[:, 3] = 0.64  # one loud channel among 64 silent ones
    soundfile.write(path, frames, 8000)
    audio = load_audio(path, 60)
    assert audio.samples.shape == (8000,) and audio.sample_rate == 8000
    np.testing.assert_allclose(audio.samples, 0.01, rtol=1e-4)


def test_reading_stops_at_the_limit_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    soundfile.write(path, np.ones((48000 * 3, 2), np.float32) * 0.5, 48000)
    audio = load_audio(path, 2.5)
    assert audio.samples.shape == (120000,)
    assert float(audio.samples.max()) == pytest.approx(0.5)
