"""The one place that decides where torch runs."""

from __future__ import annotations

import torch

from xmodal.errors import Invalid


def pick_device(choice: str = "auto") -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise Invalid("device 'cuda' was requested but no CUDA GPU is visible; use 'auto' or 'cpu'")
    if choice not in ("cpu", "cuda"):
        raise Invalid(f"unknown device {choice!r}; choose one of: auto, cpu, cuda")
    return torch.device(choice)
