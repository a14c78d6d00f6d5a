"""Sample-rate conversion in bounded memory, whatever the two rates.

A windowed-sinc resampler (torchaudio's) builds one filter per output phase of the reduced ratio:
8,009 Hz -> 44,100 Hz reduces to 44100/8009 and needs a 44,100 x 8,000 kernel (GBs), so a 16 KB
WAV could take a server's memory. We convert by the nearest ratio whose terms are at most
`MAX_TERM` instead: every common pair of rates (48k/44.1k/32k/22.05k/16k/8k...) is exact, and an
odd one lands within ~1e-5 of its true rate, a pitch change nobody (and no embedding) can hear.
"""

from __future__ import annotations

from fractions import Fraction

import torch

from xmodal.compat import ensure_imports

MAX_TERM = 1024  # kernel <= MAX_TERM phases x ~MAX_TERM taps: a few MB at most
MIN_RATE, MAX_RATE = 1_000, 384_000  # what a decoder accepts; anything else is a broken or hostile file


def ratio_terms(rate_in: int, rate_out: int) -> tuple[int, int]:
    """(input step, output step) of the resampling ratio, both at most MAX_TERM."""
    exact = Fraction(int(rate_out), int(rate_in))
    # Bounding the denominator by MAX_TERM / ratio also bounds the numerator by MAX_TERM.
    ratio = exact.limit_denominator(max(1, int(MAX_TERM / max(1.0, float(exact)))))
    return ratio.denominator, ratio.numerator


def resample(samples: torch.Tensor, rate_in: int, rate_out: int) -> torch.Tensor:
    """[..., time] at `rate_in` -> [..., time'] at (very nearly) `rate_out`."""
    if rate_in == rate_out:
        return samples
    ensure_imports()
    import torchaudio.functional

    step_in, step_out = ratio_terms(rate_in, rate_out)
    return torchaudio.functional.resample(samples, step_in, step_out)
