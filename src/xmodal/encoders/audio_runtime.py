"""The audio towers' networks in ONNX Runtime (CPU): aiSFX's CNN whole, YAMNet after its frontend.

The exporter cannot take YAMNet's FFT, so its log-mel frontend stays in torch and the MobileNet body
(the slow part: depthwise convolutions) runs in ONNX Runtime. Each wrapper is called like the torch
module (`net(x)`, `net.to(device)`, other attributes are the module's) and is exported on first use
into the cache, keyed by the weights' digest. Inputs of another shape than the export's run in torch.
bench/audio_runtimes.py measures both; tests/encoders/test_audio_runtime.py checks parity on real sounds.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from xmodal.encoders import runtime


class _YamnetBody(nn.Module):
    """YamnetNet.forward after the frontend: log-mel [N, 96, 64] -> (scores [N, 521], embeddings [N, 1024])."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu6(self.net.stem(mel.unsqueeze(1)))
        for block in self.net.blocks:
            x = block(x)
        embeddings = x.mean(dim=(2, 3))
        return torch.sigmoid(self.net.classifier(embeddings)), embeddings


class OnnxModule:
    """`reference(x)` computed as `graph(before(x))` in ONNX Runtime; `graph` is exported from torch."""

    def __init__(
        self, reference: nn.Module, graph: nn.Module, name: str, example: Tensor, outputs: tuple[str, ...],
        before: Callable[[Tensor], Tensor] | None = None, split_batches: bool = False,
    ) -> None:
        self.reference, self.before, self.input_shape = reference, before, tuple(example.shape[1:])
        path = runtime.runtime_cache_dir() / f"{name}@{runtime.weights_digest(reference)}.onnx"
        if not path.is_file():
            runtime.export_onnx(graph, example, path, input_name="input", outputs=outputs)
        open_session = runtime.SplitSession if split_batches else runtime.onnx_session
        self.session = open_session(path, torch.get_num_threads())

    def __call__(self, x: Tensor):
        with torch.inference_mode():
            prepared = self.before(x) if self.before is not None else x
        if tuple(prepared.shape[1:]) != self.input_shape:
            return self.reference(x)
        outputs = self.session.run(None, {"input": prepared.detach().cpu().float().contiguous().numpy()})
        tensors = tuple(torch.from_numpy(output).to(x.device) for output in outputs)
        return tensors[0] if len(tensors) == 1 else tensors

    def to(self, *_: object, **__: object) -> "OnnxModule":
        return self  # ONNX Runtime runs on the CPU; it is only chosen there

    def eval(self) -> "OnnxModule":
        return self

    def __getattr__(self, name: str):
        return getattr(self.reference, name)  # YamnetNet.frames and the like


def _fast(reference: nn.Module, make: Callable[[], OnnxModule], name: str):
    device = next(reference.parameters()).device
    if runtime.choose_backend(device) != "onnxruntime":
        return reference
    try:
        return make()
    except Exception as error:  # an exporter or runtime gap must not stop encoding: torch is exact
        runtime.logger.warning("ONNX Runtime unavailable for %s (%s); running it in torch", name, error)
        return reference


def fast_aisfx(net: nn.Module):
    """aiSFX's embedding net ([N, 100, 96] log-mel blocks -> [N, 512]) behind ONNX Runtime on CPU."""
    from xmodal.encoders.aisfx import BLOCK_FRAMES, N_MELS

    example = torch.zeros(1, BLOCK_FRAMES, N_MELS)
    return _fast(net, lambda: OnnxModule(net, net, "aisfx", example, ("embeddings",)), "aisfx")


def fast_yamnet(net: nn.Module):
    """YamnetNet ([N, 15600] patches -> (scores, embeddings)) with its body in ONNX Runtime on CPU."""
    from xmodal.encoders.yamnet import PATCH_SAMPLES

    net = net.eval()

    def make() -> OnnxModule:
        with torch.inference_mode():
            example = net.frontend(torch.zeros(1, PATCH_SAMPLES))
        return OnnxModule(net, _YamnetBody(net), "yamnet", example, ("scores", "embeddings"), before=net.frontend,
                          split_batches=True)  # depthwise convolutions: see runtime.SplitSession

    return _fast(net, make, "yamnet")
