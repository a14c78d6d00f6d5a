"""Peak memory of hostile inputs, each measured in a fresh process: python bench/hostile_memory.py

Resampling one second of audio at odd rates to aiSFX's 44.1 kHz: torchaudio's resampler on the
raw rates (what xmodal 0.1 did) against `xmodal.encoders.resample` (bounded ratio terms).
`--skip-old` leaves out the old path (it needs several GB of free memory).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

RATES = (8009, 44056, 44101)
PROGRAM = textwrap.dedent("""
    import resource, sys, torch
    from xmodal.compat import ensure_imports
    ensure_imports()
    import torchaudio.functional
    from xmodal.encoders.resample import resample
    rate, how = int(sys.argv[1]), sys.argv[2]
    convert = (lambda x: torchaudio.functional.resample(x, rate, 44100)) if how == "old" else (lambda x: resample(x, rate, 44100))
    resample(torch.zeros(16000), 16000, 44100)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    convert(torch.randn(rate))
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
""")


def peak_growth_mb(rate: int, how: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROGRAM, str(rate), how], capture_output=True, text=True)
    if result.returncode != 0:
        died = f"killed by signal {-result.returncode}" if result.returncode < 0 else f"exit status {result.returncode}"
        last = (result.stderr.strip().splitlines() or [died])[-1]
        return f"failed ({last[:60]})"
    return f"{float(result.stdout):8.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-old", action="store_true")
    args = parser.parse_args()
    print("peak RSS growth resampling 1 s of audio to 44,100 Hz (fresh process each)")
    print(f"{'rate':>8}  {'torchaudio, raw rates':>22}  {'xmodal resample':>16}")
    for rate in RATES:
        old = "skipped" if args.skip_old else peak_growth_mb(rate, "old")
        print(f"{rate:>8}  {old:>22}  {peak_growth_mb(rate, 'new'):>16}")


if __name__ == "__main__":
    main()
