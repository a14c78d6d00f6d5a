"""Image and sound preparation shared by the builders: SVG rendering, thumbnails, sound checks, hashes.

Images are written atomically (``*.partial.png`` then rename), so an interrupted build never
leaves a truncated file that a later, cached run would trust.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

MAX_PIXELS = 50_000_000  # over this an image is a decompression bomb, not a picture


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rsvg_convert() -> str | None:
    return shutil.which("rsvg-convert")


def render_svg(src: Path, dst: Path, side: int) -> str | None:
    """Render an SVG to an RGBA PNG that fits ``side`` x ``side`` (aspect kept); return an error or None."""
    rsvg = rsvg_convert()
    if rsvg is None:
        return "SVG but rsvg-convert is not installed (apt-get install librsvg2-bin)"
    result = subprocess.run([rsvg, "-a", "-w", str(side), "-h", str(side), "-o", str(dst), str(src)],
                            capture_output=True, text=True)
    if result.returncode != 0 or not dst.exists():
        return f"rsvg-convert failed: {result.stderr.strip()[:200]}"
    return None


def make_thumbnail(src: Path, dst: Path, max_side: int, *, on_white: bool, max_pixels: int = MAX_PIXELS) -> str | None:
    """Write ``src`` (PNG, GIF, JPEG, DDS, or SVG) as a PNG no larger than ``max_side`` at ``dst``.

    ``on_white`` composites onto white and saves RGB; otherwise alpha is kept so that training can
    change the background. Returns the reason the image cannot be used, or None.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if src.suffix.lower() == ".svg":
            rendered = Path(tmp) / "rendered.png"
            error = render_svg(src, rendered, max_side)
            if error:
                return error
            src = rendered
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size check below says it
                rgba = _open_rgba(src, max_side, max_pixels)
            if isinstance(rgba, str):
                return rgba
        except Image.DecompressionBombError as error:  # Pillow's own limit, met before ours can look
            return f"over Pillow's decompression-bomb limit: {error}"
        except (OSError, ValueError) as error:
            return f"unreadable image: {error}"
    rgba.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if rgba.getchannel("A").getbbox() is None:
        return "fully transparent image"
    if on_white:
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        rgba = canvas.convert("RGB")
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_suffix(".partial.png")
    rgba.save(partial, optimize=on_white)
    partial.replace(dst)
    return None


def _open_rgba(src: Path, max_side: int, max_pixels: int) -> Image.Image | str:
    """The image as RGBA (decoded at reduced size where the format allows), or why it is refused."""
    with Image.open(src) as image:
        width, height = image.size
        if width * height > max_pixels:
            return (f"over the {max_pixels / 1e6:.0f} MP decompression-bomb limit: "
                    f"image is {width}x{height} ({width * height / 1e6:.0f} MP)")
        image.draft("RGBA", (max_side, max_side))
        image.load()
        return image.convert("RGBA")


def dbfs(value: float) -> float:
    return 20.0 * float(np.log10(max(value, 1e-12)))


def audio_problem(path: Path, min_peak_db: float = -60.0, min_rms_db: float = -70.0,
                  min_seconds: float = 0.0) -> tuple[str | None, str]:
    """Return (reason the sound is unusable or None, hash of its decoded samples).

    The sample hash catches the same recording stored twice under two names or two encodings.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        return f"undecodable ({exc})", ""
    mono = data.mean(axis=1)
    digest = hashlib.sha1(np.round(data * 32767).astype("<i2").tobytes() + str(rate).encode()).hexdigest()
    if mono.size == 0:
        return "empty", digest
    peak = float(np.abs(mono).max())
    rms = float(np.sqrt(np.mean(mono.astype(np.float64) ** 2)))
    if dbfs(peak) < min_peak_db or dbfs(rms) < min_rms_db:
        return f"silent (peak {dbfs(peak):.0f} dBFS, rms {dbfs(rms):.0f} dBFS)", digest
    if mono.size / rate < min_seconds:
        return f"too short ({mono.size / rate:.2f} s)", digest
    return None, digest
