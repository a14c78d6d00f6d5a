"""Import shims for CPU-only torch with CUDA builds of torchvision/torchaudio.

The registry's torchvision and torchaudio wheels are CUDA builds. Against the CPU torch
they fail on import: torchvision registers kernels for ops (`nms`, `qnms`) whose schemas
live in its missing C++ extension, and torchaudio tries to load `libc10_cuda.so`.
Everything xmodal needs from them (image transforms, mel spectrograms, resampling) is pure
torch, so we declare the two schemas / stub the extension module and import again.
On a machine where the normal import works (a GPU box), `ensure_imports` changes nothing.
"""

from __future__ import annotations

import sys
import types

_done = False


def _import_torchvision() -> None:
    try:
        import torchvision  # noqa: F401
        return
    except RuntimeError as error:
        if "torchvision::nms" not in str(error):
            raise
    import torch

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "FRAGMENT")  # noqa: F841 - must stay alive
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _keep.append(library)
    import torchvision  # noqa: F401,F811


def _import_torchaudio() -> None:
    try:
        import torchaudio  # noqa: F401
        return
    except OSError:
        pass
    for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
        del sys.modules[name]
    stub = types.ModuleType("torchaudio._extension")
    stub._IS_TORCHAUDIO_EXT_AVAILABLE = False
    stub._IS_RIR_AVAILABLE = False
    stub._IS_ALIGN_AVAILABLE = False
    stub.fail_if_no_rir = stub.fail_if_no_align = lambda func: func
    stub._check_cuda_version = lambda: None
    sys.modules["torchaudio._extension"] = stub
    import torchaudio  # noqa: F401,F811


_keep: list[object] = []


def ensure_imports() -> None:
    """Make `import torchvision` and `import torchaudio` work; idempotent."""
    global _done
    if not _done:
        _import_torchvision()
        _import_torchaudio()
        _done = True
