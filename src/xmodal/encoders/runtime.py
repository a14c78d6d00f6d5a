"""Fast inference for frozen towers: torch stays the definition, a faster runtime runs it.

Torch's default NCHW CPU path is slow on depthwise convolutions (EfficientNet-Lite0: 7-20 images/s
on 2 cores). ONNX Runtime runs the same graph several times faster (bench/image_runtimes.py), so on
CPU the tower's `features` is exported once from the torch module (batch-norm folded into the
convolutions by the exporter), cached under `${XMODAL_CACHE:-~/.cache/xmodal}/runtime/` keyed by the
digest of the weights, and run there. Without onnxruntime, torch runs with batch-norm folded and
`channels_last`. On CUDA the torch module runs as is. XMODAL_RUNTIME=torch forces torch.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from xmodal.files import atomic_write

try:
    import onnxruntime
except ImportError:  # optional: torch is the fallback
    onnxruntime = None


BACKENDS = ("onnxruntime", "torch-fused", "torch")
logger = logging.getLogger(__name__)


def runtime_cache_dir() -> Path:
    return Path(os.environ.get("XMODAL_CACHE") or "~/.cache/xmodal").expanduser() / "runtime"


def weights_digest(module: nn.Module) -> str:
    """sha256 over the module's parameters and buffers (names, shapes, bytes): changes with the weights."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """A copy of `module` in which every (conv `_x_conv*`, batch-norm) pair that runs back to back is
    one convolution. Pairs are found by the EfficientNet naming (conv then `_bnN`), listed below."""
    module = copy.deepcopy(module).eval()
    pairs = (("_conv_stem", "_bn0"), ("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"),
             ("_project_conv", "_bn2"), ("_conv_head", "_bn1"))
    for owner in module.modules():
        for conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name, None), getattr(owner, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(owner, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(owner, bn_name, nn.Identity())
    return module


class _FeaturesOnly(nn.Module):
    """Exposes `tower.features` as `forward`, which is what the exporter traces."""

    def __init__(self, tower: nn.Module) -> None:
        super().__init__()
        self.tower = tower

    def forward(self, pixels: Tensor) -> Tensor:
        return self.tower.features(pixels)


def export_onnx(
    module: nn.Module, example: Tensor, path: Path, input_name: str = "pixels", outputs: tuple[str, ...] = ("features",)
) -> None:
    """`module.forward` -> ONNX at `path` (batch dimension dynamic), written atomically."""
    buffer = io.BytesIO()
    # The tracer warns that TF "SAME" padding becomes constant: callers run only the example's size there.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module.eval(), (example,), buffer, input_names=[input_name], output_names=list(outputs),
            dynamic_axes={name: {0: "batch"} for name in (input_name, *outputs)}, opset_version=17, dynamo=False,
        )
    atomic_write(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))


def exported(tower: nn.Module, name: str, example: Tensor) -> Path:
    """The cached ONNX file of `tower.features`, exported on first use."""
    path = runtime_cache_dir() / f"{name}@{weights_digest(tower)}.onnx"
    if not path.is_file():
        export_onnx(_FeaturesOnly(tower), example, path)
    return path


def onnx_session(path: Path, threads: int):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads  # follow torch's setting (OMP_NUM_THREADS / --threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # ORT's idle workers spin after each run by default, taking the cores from the torch steps that come next
    # (mel frontends, resampling, the heads): on 2 cores 8 clips encoded at 46/s spinning and 82/s not
    # (bench/audio_pipeline.py), one image at batch 1 in 16 ms against 10; large image batches are unchanged.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


SPLIT_MIN_ROWS = 8  # per session: below this a batch runs whole, on every core (query latency)


class SplitSession:
    """One graph as one session per core, each single-threaded, taking an equal share of a large batch.

    Networks of depthwise convolutions (EfficientNet-Lite0, YAMNet) parallelise poorly inside one run:
    on 2 cores, two single-threaded sessions on half a batch each encode 1.2-1.35x more than one session
    with 2 threads (aiSFX's plain convolutions: level). Small batches (queries) run whole on the
    multi-threaded session, so their latency is unchanged; the per-core sessions load on the first large batch.
    """

    def __init__(self, path: Path, threads: int) -> None:
        self.path, self.threads = path, threads
        self.whole = onnx_session(path, threads)
        self._parts: list | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._loading = threading.Lock()

    def run(self, outputs, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        rows = len(next(iter(feeds.values())))
        if self.threads < 2 or rows < SPLIT_MIN_ROWS * 2:
            return self.whole.run(outputs, feeds)
        parts, pool = self._sessions()
        shares = np.array_split(np.arange(rows), len(parts))
        futures = [pool.submit(part.run, outputs, {name: value[share] for name, value in feeds.items()})
                   for part, share in zip(parts, shares)]
        results = [future.result() for future in futures]
        return [np.concatenate(pieces) for pieces in zip(*results)]

    def _sessions(self) -> tuple[list, ThreadPoolExecutor]:
        with self._loading:
            if self._parts is None:
                self._parts = [onnx_session(self.path, 1) for _ in range(self.threads)]
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="xmodal-onnx")
        return self._parts, self._pool  # type: ignore[return-value]

    def __getattr__(self, name: str):
        return getattr(self.whole, name)  # get_inputs, get_session_options, ...


class FastTower:
    """The tower with the same call signature, `features` run by the fastest runtime that is available.
    Everything else (`_fc`, parameters) is the torch tower's."""

    def __init__(self, tower: nn.Module, name: str, example: Tensor, backend: str | None = None) -> None:
        self.tower = tower
        self.input_shape = tuple(example.shape[1:])  # the export fixed these (padding is computed from them)
        self.device = next(tower.parameters()).device
        self.backend = backend or choose_backend(self.device)
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown runtime {self.backend!r}; choose from: {', '.join(BACKENDS)}")
        self.session = self.fused = None
        if self.backend == "onnxruntime":
            try:
                self.session = SplitSession(exported(tower, name, example), torch.get_num_threads())
            except Exception as error:  # an exporter or runtime gap must not stop encoding: torch is exact
                logger.warning("ONNX Runtime unavailable for %s (%s); running it in torch", name, error)
                self.backend = "torch-fused"
        if self.backend == "torch-fused":
            self.fused = fold_batchnorm(tower).to(memory_format=torch.channels_last)

    def features(self, pixels: Tensor) -> Tensor:
        if self.session is not None and tuple(pixels.shape[1:]) == self.input_shape:
            array = pixels.detach().cpu().float().contiguous().numpy()
            (features,) = self.session.run(None, {"pixels": array})
            return torch.from_numpy(features).to(self.device)
        with torch.inference_mode():
            if self.fused is not None:
                return self.fused.features(pixels.contiguous(memory_format=torch.channels_last))
            return self.tower.features(pixels)

    def __getattr__(self, name: str):
        return getattr(self.tower, name)  # only reached for what FastTower itself lacks


def choose_backend(device: torch.device) -> str:
    forced = os.environ.get("XMODAL_RUNTIME", "").strip()
    if forced:
        return forced
    if device.type != "cpu":
        return "torch"  # CUDA kernels handle depthwise convolutions well; keep one definition there
    return "onnxruntime" if onnxruntime is not None else "torch-fused"


def fast_image_tower(tower: nn.Module) -> FastTower:
    """EfficientNet-Lite0 (`efficientnet_lite.load_efficientnet_lite0()`) behind the fastest runtime."""
    from xmodal.encoders.efficientnet_lite import IMAGE_SIZE

    device = next(tower.parameters()).device
    return FastTower(tower, "efficientnet-lite0", torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE, device=device))
