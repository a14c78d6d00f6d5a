"""File paths as the API shows them: absolute by default, or relative to `public_path_base` so that
a public server does not reveal its folder layout (files outside the base show their name only)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from fastapi import Request

from xmodal.search import Hit, display_path
from xmodal.store.filters import Filters


class PublicPaths:
    def __init__(self, base: Path | None) -> None:
        self.base = None if base is None else os.path.abspath(base)

    def show(self, path: str | None) -> str | None:
        if path is None or self.base is None:
            return display_path(path)
        inside = os.path.commonpath([self.base, os.path.abspath(path)]) == self.base
        return display_path(os.path.relpath(path, self.base) if inside else os.path.basename(path))

    def hit(self, hit: Hit) -> Hit:
        if self.base is None:
            return hit
        parts = None if hit.parts is None else [dataclasses.replace(p, path=self.show(p.path)) for p in hit.parts]
        return dataclasses.replace(hit, path=self.show(hit.path), parts=parts)

    def filters(self, filters: Filters | None) -> Filters | None:
        """A relative path_prefix means one under the base, as results show it."""
        if filters is None or self.base is None or filters.path_prefix is None or os.path.isabs(filters.path_prefix):
            return filters
        return filters.model_copy(update={"path_prefix": os.path.join(self.base, filters.path_prefix)})


def public_paths(request: Request) -> PublicPaths:
    return PublicPaths(request.app.state.settings.public_path_base)
