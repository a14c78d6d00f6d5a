"""The YAMNet tower: throughput of the torch port against the int8 TFLite model, and how far apart they score.

    python bench/yamnet_tower.py [--clips 32] [--seconds 4] [--repeats 3]

Clips are the sample corpus's sounds at 16 kHz, each looped to `--seconds`, so a batch holds real
audio. The port embeds the whole batch with `embed_clips` (torch's default threads), as loaded
(channels-last) and in torch's default NCHW layout; TFLite (ai-edge-litert, default threads) runs
the same patches one by one, as its graph takes a single 15,600-sample patch. Timings are the best of
`--repeats` turns, taken in rotation in this one run. Then the scores of both on every patch: max and mean absolute
difference, top-1 and top-5 agreement (exact sets; up to ties, as the int8 model's scores come in
coarse steps and tie often; and the score slack that makes the top 5 agree on every patch, which
tests/encoders/test_yamnet.py bounds). More clips give more distinct patches for the parity figures:
`--clips 192 --seconds 6 --repeats 1`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile
import torch

from xmodal.encoders.resample import resample
from xmodal.encoders.yamnet import SAMPLE_RATE, embed_clips, load_yamnet, packaged_model_path

SOUNDS = Path(__file__).resolve().parent.parent / "samples" / "corpus" / "sounds"
CPU = torch.device("cpu")


def corpus_clips(n: int, seconds: float) -> list[torch.Tensor]:
    """n clips of the corpus's sounds, each looped to `seconds`; the k-th round over the sounds starts
    k x 0.06 s into the loop, so that a larger n gives new patches, not repeats."""
    sounds = []
    for path in sorted(SOUNDS.glob("*.ogg")):
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        sounds.append(resample(torch.from_numpy(samples.mean(axis=1)), rate, SAMPLE_RATE))
    length, shift = int(seconds * SAMPLE_RATE), int(0.06 * SAMPLE_RATE)
    clips = []
    for i in range(n):
        sound, start = sounds[i % len(sounds)], (i // len(sounds)) * shift
        clips.append(sound.repeat((start + length) // len(sound) + 1)[start : start + length])
    return clips


def best_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time of each run; the runs take turns, so that a busy spell on a shared machine
    does not land on one of them only."""
    for run in runs.values():
        run()  # warm-up
    best = dict.fromkeys(runs, math.inf)
    for _ in range(repeats):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def tflite_scores(interpreter, frames: np.ndarray) -> np.ndarray:
    waveform_in = interpreter.get_input_details()[0]["index"]
    scores_out = interpreter.get_output_details()[0]["index"]
    scores = []
    for frame in frames:
        interpreter.set_tensor(waveform_in, frame)
        interpreter.invoke()
        scores.append(interpreter.get_tensor(scores_out)[0].copy())
    return np.stack(scores)


def top5_slack_needed(port: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per patch, the least score slack under which the top 5 agree: each of the port's top 5 scores
    at least the reference's 5th best minus the slack, and each class surely in the reference's top
    5 (above its 6th best) scores at least the port's 5th best minus the slack. 0 = same up to ties."""
    needed = []
    for p, r in zip(port, reference):
        p_sorted, r_sorted = np.sort(p)[::-1], np.sort(r)[::-1]
        p_top, r_sure = np.argsort(-p)[:5], np.flatnonzero(r > r_sorted[5])
        needed.append(max(0.0, (r_sorted[4] - r[p_top]).max(), (p_sorted[4] - p[r_sure]).max(initial=0.0)))
    return np.array(needed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from ai_edge_litert.interpreter import Interpreter

    net = load_yamnet()
    clips = corpus_clips(args.clips, args.seconds)
    frames = torch.cat([net.frames(clip) for clip in clips])
    print(f"{args.clips} clips of {args.seconds:g} s = {len(frames)} patches; torch threads {torch.get_num_threads()}")

    nchw = load_yamnet().to(memory_format=torch.contiguous_format)
    interpreter = Interpreter(model_path=str(packaged_model_path()))
    interpreter.allocate_tensors()
    frames_np = np.ascontiguousarray(frames.numpy())
    runs = {
        "port, channels-last (as loaded)": lambda: embed_clips(net, clips, CPU),
        "port, NCHW": lambda: embed_clips(nchw, clips, CPU),
        "TFLite int8 (litert)": lambda: tflite_scores(interpreter, frames_np),
    }
    seconds = best_seconds(runs, args.repeats)
    for label, took in seconds.items():
        print(f"{label:32s} {args.clips / took:7.1f} clips/s  {len(frames) / took:7.1f} patches/s  ({took:.2f} s)")
    port_s, nchw_s, tflite_s = seconds.values()
    print(f"ratios: port / TFLite {tflite_s / port_s:.2f}x, channels-last / NCHW {nchw_s / port_s:.2f}x")

    with torch.inference_mode():
        port = net(frames)[0].numpy()
    reference = tflite_scores(interpreter, frames_np)
    difference = np.abs(port - reference)
    exact_top5 = np.mean([set(np.argsort(-p)[:5]) == set(np.argsort(-r)[:5]) for p, r in zip(port, reference)])
    top1 = np.mean([r[p.argmax()] == r.max() for p, r in zip(port, reference)])  # ties in r count as agreeing
    slack = top5_slack_needed(port, reference)
    print(
        f"scores: max |diff| {difference.max():.4f}, mean {difference.mean():.5f}, p99 {np.quantile(difference, 0.99):.4f}"
    )
    print(
        f"top-1 agreement (reference ties count) {top1:.3f}; top-5: exact sets {exact_top5:.3f}, "
        f"same up to ties {np.mean(slack == 0):.3f}, within 0.03 {np.mean(slack <= 0.03):.3f}; "
        f"slack needed for every patch {slack.max():.4f}"
    )


if __name__ == "__main__":
    main()
