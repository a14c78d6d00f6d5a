"""What to index: directories walked for media and text files, or JSONL manifests."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from xmodal import modalities
from xmodal.config import Settings
from xmodal.errors import NotFound
from xmodal.files import open_regular
from xmodal.modalities import Limits
from xmodal.store.layout import is_store_directory

if TYPE_CHECKING:
    from xmodal.indexer.video import VideoParts

LINK_OUT = "a symbolic link to a file outside the folders being indexed"


@dataclass(frozen=True)
class Source:
    modality: str
    path: str | None = None  # absolute file path; None for inline manifest text
    text: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # A piece of the file at `path` ("frame 3", "soundtrack"), read by `load_piece` of the file's
    # modality (modalities.for_path); only as a part of an ItemSource whose `path` is that file.
    piece: str | None = None

    @property
    def label(self) -> str:
        if self.piece is not None:
            return f"{self.path} ({self.piece})"
        return self.path or f"text {self.external_id or self.text[:40]!r}"  # type: ignore[index]


@dataclass(frozen=True)
class ItemSource:
    """One item made of several media (its parts: sources without ids of their own), from a manifest line
    naming several media or from files sharing a stem (`--pair-by-stem`). `external_id` names the item
    across runs: a part whose content is unchanged keeps its vector, a changed one is embedded again."""

    external_id: str
    parts: tuple[Source, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # the manifest line or the stem, for messages
    # The one file the whole item comes from (a video), its parts being pieces of it: the item's row
    # keeps its path, size, mtime and hash, and an unchanged file is not read again.
    path: str | None = None

    @property
    def label(self) -> str:
        return self.where or f"item {self.external_id!r}"


@dataclass(frozen=True)
class SourceProblem:
    where: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    """A folder (an xmodal store) or a link left out of the walk, and why: a note, not a failure."""

    where: str
    reason: str


def check_paths(paths: Sequence[Path]) -> None:
    """Every path given must exist: a typo is the user's error, found before anything is done."""
    for path in paths:
        if not Path(path).exists():
            raise NotFound(f"{path}: no such file or directory (nothing was indexed)")


def collect_sources(
    paths: list[Path], skip: Sequence[Path] = (), pair_by_stem: bool = False, limits: Limits | None = None
) -> Iterator[Source | ItemSource | SourceProblem | Skipped]:
    """Yield sources in a stable order; problems (missing paths, bad manifest lines) are yielded, not
    raised. Folders in `skip` (the job's own store) and any xmodal store found are never walked, and a
    link found in a walk that leads out of the folders given is noted, not followed. With `pair_by_stem`,
    files of one folder sharing a stem (dog.png, dog.txt, dog.ogg) become one item with parts. A video becomes
    an item whose parts are frames and its soundtrack, as many as its header promises within `limits`."""
    from xmodal.indexer.video import VideoParts  # it makes sources: imported here, not at the top

    videos = VideoParts(limits or Limits.for_indexing(Settings()))
    own = {Path(folder).resolve() for folder in skip}
    folders = [root.resolve() for root in paths if root.is_dir()]
    for root in paths:
        if root.is_dir():
            yield from _walk(root, own, folders, pair_by_stem, videos)
        elif root.suffix.lower() == ".jsonl" and root.is_file():
            yield from _read_manifest(root, videos)
        elif root.is_file():
            modality = modalities.for_path(root)
            if modality is not None and modality.load_piece is not None:
                yield videos.item(str(root.resolve()))
            elif modality is None:
                kinds = ", ".join(
                    f"{kind.label} ({' '.join(sorted(kind.extensions))})"
                    for kind in (*modalities.REGISTRY.values(), *modalities.CONTAINERS)
                )
                yield SourceProblem(str(root), f"unsupported file type (expected {kinds}, or a .jsonl manifest)")
            else:
                yield Source(modality=modality.name, path=str(root.resolve()))
        elif root.exists():  # os.walk and open would block on a FIFO
            yield SourceProblem(str(root), "not a regular file or folder (a FIFO, device or socket): not read")
        else:
            yield SourceProblem(str(root), "no such file or directory")


def admitted(
    sources: Iterable[Source | ItemSource | SourceProblem | Skipped], admit: Callable[[Source], str | None] | None
) -> Iterator[Source | ItemSource | SourceProblem | Skipped]:
    """The sources, with those `admit` refuses (it returns a reason) turned into problems (an item with
    parts: when it refuses any part)."""
    for source in sources:
        reason = None
        if admit is not None and isinstance(source, Source):
            reason = admit(source)
        elif admit is not None and isinstance(source, ItemSource):
            reason = next((why for part in source.parts if (why := admit(part)) is not None), None)
        yield source if reason is None else SourceProblem(source.label, reason)  # type: ignore[union-attr]


def _walk(
    root: Path, own: set[Path], folders: list[Path], pair_by_stem: bool, videos: VideoParts
) -> Iterator[Source | ItemSource | SourceProblem | Skipped]:
    reason = _store_reason(root, own)
    if reason is not None:
        yield Skipped(str(root.resolve()), reason)
        return
    for directory, subdirectories, files in os.walk(root):
        kept = []
        for name in sorted(name for name in subdirectories if not name.startswith(".")):
            reason = _store_reason(Path(directory, name), own)
            if reason is None:
                kept.append(name)
            else:
                yield Skipped(str(Path(directory, name).resolve()), reason)
        subdirectories[:] = kept
        found: list[Source | ItemSource | SourceProblem | Skipped] = []
        for name in sorted(files):
            path = Path(directory, name)
            modality = modalities.for_path(path)
            if modality is None or name.startswith(".") or not path.is_file():  # no FIFOs, devices, dangling links
                continue
            resolved = path.resolve()
            if any(resolved.is_relative_to(folder) for folder in folders) and modality.load_piece is not None:
                found.append(videos.item(str(resolved)))  # a video: an item of its own, never paired by stem
            elif any(resolved.is_relative_to(folder) for folder in folders):
                found.append(Source(modality=modality.name, path=str(resolved)))
            else:  # a link to /etc/passwd in a shared folder must not become a served item
                found.append(Skipped(str(path), f"{LINK_OUT}: not followed"))
        yield from _paired_by_stem(Path(directory), found) if pair_by_stem else found


def _paired_by_stem(
    directory: Path, found: list[Source | ItemSource | SourceProblem | Skipped]
) -> Iterator[Source | ItemSource | SourceProblem | Skipped]:
    """Files of one folder with one stem and more than one file become an item named by the folder's
    path and the stem (`/photos/dog`); a file alone stays a single-file item."""
    stems: dict[str, list[Source]] = {}
    for entry in found:
        if isinstance(entry, Source):
            stems.setdefault(Path(entry.path).stem, []).append(entry)  # type: ignore[arg-type]
        else:
            yield entry
    for stem, sources in stems.items():
        if len(sources) == 1:
            yield sources[0]
        else:
            name = str(directory.resolve() / stem)
            yield ItemSource(external_id=name, parts=tuple(sources), where=f"{name}.*")


def _store_reason(folder: Path, own: set[Path]) -> str | None:
    """Why `folder` is not walked: a store's thumbnails and files are not the user's media."""
    if folder.resolve() in own:
        return "the xmodal store this job writes to"
    return "an xmodal store" if is_store_directory(folder) else None


def _read_manifest(manifest: Path, videos: VideoParts) -> Iterator[Source | ItemSource | SourceProblem]:
    with io.TextIOWrapper(open_regular(manifest), encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield _parse_manifest_line(manifest, number, line, videos)


def _parse_manifest_line(
    manifest: Path, number: int, line: str, videos: VideoParts
) -> Source | ItemSource | SourceProblem:
    where = f"{manifest}:{number}"
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as error:
        return SourceProblem(where, f"not valid JSON ({error.msg})")
    if not isinstance(entry, dict):
        return SourceProblem(where, "a manifest line must be a JSON object")
    external_id, metadata = entry.get("id"), entry.get("metadata", {})
    if external_id is not None and not isinstance(external_id, (str, int)):
        return SourceProblem(where, '"id" must be a string or a number')
    if not isinstance(metadata, dict):
        return SourceProblem(where, '"metadata" must be a JSON object')
    external_id = None if external_id is None else str(external_id)
    if any(key in entry for key in PART_KEYS):
        return _parse_parts(manifest, where, entry, external_id, metadata)
    if isinstance(entry.get("text"), str) and entry["text"].strip():
        return Source(modality="text", text=entry["text"].strip(), external_id=external_id, metadata=metadata)
    if isinstance(entry.get("path"), str):
        path = (manifest.parent / entry["path"]).resolve()
        modality = modalities.for_path(path)
        if modality is not None and modality.load_piece is not None:
            return videos.item(str(path), external_id, metadata, where)
        if modality is None:
            return SourceProblem(where, f"{entry['path']}: unsupported file type")
        return Source(modality=modality.name, path=str(path), external_id=external_id, metadata=metadata)
    return SourceProblem(
        where, 'each line needs "path" (a file), "text" (non-empty inline text), or media: "image", "audio"'
    )


PART_KEYS = ("image", "audio")  # a line naming media by kind: {"id", "image": path | [paths], "text", "audio"}


def _parse_parts(
    manifest: Path, where: str, entry: dict[str, Any], external_id: str | None, metadata: dict[str, Any]
) -> Source | ItemSource | SourceProblem:
    """One item with parts; a line naming a single medium is a single-file (or text) item as before."""
    parts: list[Source] = []
    for key in PART_KEYS:
        given = entry.get(key)
        paths = [given] if isinstance(given, str) else given if given is not None else []
        if not isinstance(paths, list) or not all(isinstance(path, str) and path for path in paths):
            return SourceProblem(where, f'"{key}" must be a file path or a list of file paths')
        for value in paths:
            path = (manifest.parent / value).resolve()
            modality = modalities.for_path(path)
            if modality is None or modality.name != key:
                wanted = modalities.get(key)
                return SourceProblem(where, f"{value}: not {wanted.label} file ({wanted.formats})")
            parts.append(Source(modality=key, path=str(path)))
    text = entry.get("text")
    if text is not None and not (isinstance(text, str) and text.strip()):
        return SourceProblem(where, '"text" must be a non-empty string')
    if text is not None:
        parts.append(Source(modality="text", text=text.strip()))
    if not parts:
        return SourceProblem(where, "the line names no media")
    if len(parts) == 1:
        return Source(**{**parts[0].__dict__, "external_id": external_id, "metadata": metadata})
    if external_id is None:
        return SourceProblem(where, 'a line with several media needs an "id" (it names the item across runs)')
    return ItemSource(external_id=external_id, parts=tuple(parts), metadata=metadata, where=where)
