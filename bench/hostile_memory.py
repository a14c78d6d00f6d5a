"""Peak memory of hostile inputs, each measured in a fresh process: python bench/hostile_memory.py

- resample: one second of audio at odd rates resampled to aiSFX's 44.1 kHz: torchaudio's resampler
  on the raw rates (what xmodal 0.1 did) against `xmodal.encoders.resample` (bounded ratio terms).
  `--skip-old` leaves out the old path (it needs several GB of free memory).
- json: one 47 MB JSON body POSTed to /jobs with the key, Content-Length declared, default limits,
  through the ASGI app in-process. To measure an older checkout, run this script with
  PYTHONPATH=OLD/src (the program uses only create_app, Engine, Store and Settings).
- webp: decoding one uploaded 7000x7000 lossless WebP (a few KB) as POST /search does
  (`xmodal.api.uploads.decode_upload`, default settings); the file is made in another process first.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

RATES = (8009, 44056, 44101)
RESAMPLE = textwrap.dedent("""
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
JSON_BODY = textwrap.dedent("""
    import resource, sys, tempfile, anyio
    from xmodal.api import create_app
    from xmodal.config import Settings
    from xmodal.engine import Engine
    from xmodal.store import Store
    folder = tempfile.mkdtemp()
    settings = Settings(store=folder + "/store", api_key="k", allowed_roots=[folder])
    store = Store.open(settings.store, {"spec": "bench", "version": "1", "dim": 4}, writable=True)
    app = create_app(settings, Engine(settings, store=store))
    body = b'{"paths": [' + b"{}," * (47_000_000 // 3) + b'{}]}'  # 15 M small objects
    chunks = [body[start:start + 65536] for start in range(0, len(body), 65536)]
    status = 0
    async def receive():
        if not chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
    async def send(message):
        global status
        status = message.get("status", status)
    length = str(len(body)).encode()
    headers = [(b"content-type", b"application/json"), (b"x-api-key", b"k"), (b"content-length", length)]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/jobs", "raw_path": b"/jobs", "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    anyio.run(app, scope, receive, send)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, status)
""")
WEBP_MAKE = textwrap.dedent("""
    import sys
    from PIL import Image
    Image.new("RGB", (7000, 7000), (200, 30, 30)).save(sys.argv[1], "WEBP", lossless=True)
""")
WEBP_DECODE = textwrap.dedent("""
    import io, resource, sys
    from starlette.datastructures import Headers, UploadFile
    from xmodal.api.uploads import decode_upload
    from xmodal.config import Settings
    from xmodal.errors import XmodalError
    data = open(sys.argv[1], "rb").read()
    upload = UploadFile(io.BytesIO(data), filename="bomb.webp", headers=Headers({"content-type": "image/webp"}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        decode_upload(upload, data, Settings())
        outcome = "decoded"
    except XmodalError:
        outcome = "refused"
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, outcome, len(data))
""")


def run(program: str, *args: object) -> list[str] | str:
    result = subprocess.run([sys.executable, "-c", program, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        died = f"killed by signal {-result.returncode}" if result.returncode < 0 else f"exit status {result.returncode}"
        last = (result.stderr.strip().splitlines() or [died])[-1]
        return f"failed ({last[:60]})"
    return result.stdout.split()


def megabytes(output: list[str] | str) -> str:
    return output if isinstance(output, str) else f"{float(output[0]):8.0f} MB"


def resampling(skip_old: bool) -> None:
    print("peak RSS growth resampling 1 s of audio to 44,100 Hz (fresh process each)")
    print(f"{'rate':>8}  {'torchaudio, raw rates':>22}  {'xmodal resample':>16}")
    for rate in RATES:
        old = "skipped" if skip_old else megabytes(run(RESAMPLE, rate, "old"))
        print(f"{rate:>8}  {old:>22}  {megabytes(run(RESAMPLE, rate, 'new')):>16}")


def json_body() -> None:
    output = run(JSON_BODY)
    status = output if isinstance(output, str) else f"HTTP {output[1]}"
    print(f"POST /jobs, 47 MB JSON body with the key: peak RSS growth {megabytes(output)}, {status}")


def webp_upload() -> None:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bomb.webp")
        subprocess.run([sys.executable, "-c", WEBP_MAKE, path], check=True)
        output = run(WEBP_DECODE, path)
    if isinstance(output, str):
        print(f"upload of a 49 MP lossless WebP: {output}")
        return
    print(f"upload of a 49 MP lossless WebP ({output[2]} bytes): peak RSS growth {megabytes(output)}, {output[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-old", action="store_true")
    parser.add_argument("--only", choices=["resample", "json", "webp"])
    args = parser.parse_args()
    if args.only in (None, "resample"):
        resampling(args.skip_old)
    if args.only in (None, "json"):
        json_body()
    if args.only in (None, "webp"):
        webp_upload()


if __name__ == "__main__":
    main()
