"""The plan stage for items with parts: what changes in one item, part by part.

An item is found by its external id. Its stored parts are matched to the parts given by modality and
content hash: a match is kept (its vector too, even at a new path), a stored part no longer given is
removed, and a given part the item lacks is new. A file part whose path, size and mtime match a stored
part of the item is not read. A new part whose content the store already holds gets a copy of that
vector instead of a second embedding. So changing only a caption embeds only the caption.

An item may also come from one file whose pieces are its parts (a video: frames and a soundtrack):
`ItemSource(external_id, parts=(Source("image", path, piece="frame 0"), ..., Source("audio", path,
piece="soundtrack")), path=path)`. The item's row keeps the file's path, size, mtime and hash; an
unchanged file (same stat, same pieces asked for) is not read; a piece's hash is the file's hash with
the piece's name, so a changed file embeds every piece again. Pieces are decoded by `load_piece` of
the file's modality (`modalities.for_path`); their rows have no path of their own.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from xmodal.indexer.decode import hash_source, piece_hash
from xmodal.indexer.embed import EmbedTask
from xmodal.indexer.plan import Failed, Unchanged
from xmodal.indexer.sources import ItemSource, Source
from xmodal.store import Item, Store
from xmodal.store.parts import KeptPart
from xmodal.store.schema import EMBEDDED, ITEM


@dataclass(frozen=True)
class PartFailed:
    """A part that cannot be used (unreadable, a kind the model lacks): reported; its item goes on."""

    where: str
    reason: str


@dataclass(frozen=True)
class NewPart:
    source: Source
    content_hash: str
    size: int | None
    mtime: float | None
    task: EmbedTask | None = None  # to embed; None when `vector` was copied from the same content
    vector: np.ndarray | None = None
    text: str | None = None  # a copied text part's text


@dataclass
class ItemChange:
    """One item's plan: the commit stage writes it when every new part has its vector."""

    item: ItemSource
    parent_id: int | None
    kept: list[KeptPart] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    new: list[NewPart] = field(default_factory=list)
    replaced: int | None = None  # a single-file item that had this external id
    file: KeptPart | None = None  # the file the whole item comes from (a video): path, size, mtime
    file_hash: str | None = None


@dataclass(frozen=True)
class _Given:
    source: Source
    content_hash: str
    size: int | None
    mtime: float | None


class PartsPlan:
    def __init__(
        self,
        store: Store,
        modalities: tuple[str, ...],
        refusal: Callable[[str], str],
        next_task: Callable[[], int],
        single_paths: set[str],
    ) -> None:
        self.store = store
        self.modalities = modalities  # what the encoder can embed
        self.refusal = refusal
        self.next_task = next_task  # the job's task numbering, shared with single files
        self.single_paths = single_paths  # files this job indexes as items of their own
        self.seen_paths: set[str] = set()  # files this job gives to items as parts

    def decide(self, item: ItemSource) -> list[object]:
        """Failed parts (recorded, the rest of the item goes on), then Unchanged or an ItemChange."""
        kept = tuple(part for part in item.parts if part.piece is None or part.modality in self.modalities)
        item = dataclasses.replace(item, parts=kept)  # a video's soundtrack under an image-text model: no failure
        stored = self.store.by_external_id(item.external_id)
        replaced = stored.id if stored is not None and stored.modality != ITEM else None
        parent = stored if replaced is None else None
        parts = self.store.parts_of([parent.id])[parent.id] if parent is not None else []
        file = self._file(item, parent, parts) if item.path is not None else None
        if isinstance(file, (Failed, Unchanged)):
            return [file]
        decisions: list[object] = []
        given: list[_Given] = []
        for source in item.parts:
            found = self._given(source, parts, file[1] if file is not None else None)
            if isinstance(found, str):
                decisions.append(PartFailed(source.label, found))
            else:
                given.append(found)
        if not given:
            return decisions + [Failed(item.label, "none of its parts could be read")]
        change = self._match(item, parent, parts, given)
        change.replaced = replaced
        if file is not None:
            change.file, change.file_hash = file
            at_path = self.store.by_path(file[0].path)  # type: ignore[arg-type]
            if at_path is not None and (parent is None or at_path.id != parent.id):
                change.removed.append(at_path.id)  # the file was indexed otherwise before
        if isinstance(change, ItemChange) and self._same(change, parent):
            return decisions + [Unchanged(item.label)]
        return decisions + [change]

    def _file(
        self, item: ItemSource, parent: Item | None, parts: list[Item]
    ) -> tuple[KeptPart, str] | Failed | Unchanged:
        """The item's own file (a video): Unchanged when its path, size and mtime match the stored item
        and the same pieces are asked for (nothing is read), else its stat and content hash."""
        problem = self._claim(item.path)  # type: ignore[arg-type]
        if problem is not None:
            return Failed(item.label, problem)
        try:
            stat = os.stat(item.path)  # type: ignore[arg-type]
        except OSError as error:
            return Failed(item.label, f"cannot read: {error.strerror or error}")
        if (
            parent is not None
            and (parent.path, parent.size, parent.mtime) == (item.path, stat.st_size, stat.st_mtime)
            and parent.status in EMBEDDED
            and (parent.meta or {}) == item.metadata
            and sorted((p.modality, p.piece or "") for p in parts)
            == sorted((s.modality, s.piece or "") for s in item.parts)
        ):
            return Unchanged(item.label)
        hashed = hash_source(Source(modality=ITEM, path=item.path))
        if hashed.error is not None:
            return Failed(item.label, hashed.error)
        return KeptPart(0, item.path, hashed.size, hashed.mtime), hashed.content_hash

    def _claim(self, path: str) -> str | None:
        """Why this job cannot give the file to an item (None: it can, and now has)."""
        if path in self.single_paths:
            return "this job indexes the file as an item of its own too: give it once"
        if path in self.seen_paths:
            return "this job gives the file to another item already: a file is a part of one item"
        self.seen_paths.add(path)
        return None

    def _given(self, source: Source, parts: list[Item], file_hash: str | None) -> _Given | str:
        """The part with its content hash (read only when the stored part's stat differs), or why not.
        A piece of the item's file takes its hash from the file's."""
        if source.modality not in self.modalities:
            return self.refusal(source.modality)
        if source.piece is not None:
            if file_hash is None:
                return "a piece of a file is a part only of an item made from that file (ItemSource.path)"
            return _Given(source, piece_hash(file_hash, source.piece), None, None)
        if source.path is not None:
            problem = self._claim(source.path)
            if problem is not None:
                return problem
            try:
                stat = os.stat(source.path)
            except OSError as error:
                return f"cannot read: {error.strerror or error}"
            for part in parts:
                if part.path == source.path and (part.size, part.mtime) == (stat.st_size, stat.st_mtime):
                    return _Given(source, part.content_hash or "", part.size, part.mtime)
        hashed = hash_source(source)
        if hashed.error is not None:
            return hashed.error
        return _Given(source, hashed.content_hash, hashed.size, hashed.mtime)

    def _match(self, item: ItemSource, parent: Item | None, parts: list[Item], given: list[_Given]) -> ItemChange:
        change = ItemChange(item, parent.id if parent is not None else None)
        unmatched = list(parts)
        for part in given:
            key = (part.source.modality, part.content_hash)
            twin = next((row for row in unmatched if (row.modality, row.content_hash) == key), None)
            if twin is not None:
                unmatched.remove(twin)
                path = None if part.source.piece is not None else part.source.path
                change.kept.append(KeptPart(twin.id, path, part.size, part.mtime))
            else:
                self._add(change, part)
        change.removed = [row.id for row in unmatched]
        return change

    def _add(self, change: ItemChange, part: _Given) -> None:
        """A part the item lacks: adopt a single-file item at its path with the same content, else replace
        whatever row holds the path, and copy the vector of the same content or embed it."""
        source = part.source
        at_path = self.store.by_path(source.path) if source.path is not None and source.piece is None else None
        if at_path is not None and at_path.parent_id is None and at_path.status in EMBEDDED:
            if at_path.content_hash == part.content_hash and at_path.modality == source.modality:
                change.kept.append(KeptPart(at_path.id, source.path, part.size, part.mtime))
                return
        if at_path is not None:
            change.removed.append(at_path.id)  # another item's old part, or a failed or changed file
        same = self.store.by_content(part.content_hash, source.modality)
        if same is not None:
            vector = self.store.vectors(same.modality).vector(same.id)
            copied = NewPart(source, part.content_hash, part.size, part.mtime, vector=vector, text=same.text)
            change.new.append(copied)
        else:
            task = EmbedTask(self.next_task(), source)
            change.new.append(NewPart(source, part.content_hash, part.size, part.mtime, task=task))

    def _same(self, change: ItemChange, parent: Item | None) -> bool:
        """Nothing to write: the same parts at the same paths, the same metadata, already searchable."""
        if parent is None or change.new or change.removed or change.replaced is not None:
            return False
        if parent.status not in EMBEDDED or (parent.meta or {}) != change.item.metadata:
            return False
        if change.file is not None and (parent.path, parent.size, parent.mtime) != (
            change.file.path, change.file.size, change.file.mtime
        ):
            return False  # a touched file: same pieces, new stat to record
        stored = {part.id: (part.path, part.size, part.mtime) for part in self.store.parts_of([parent.id])[parent.id]}
        return all(stored.get(kept.item_id) == (kept.path, kept.size, kept.mtime) for kept in change.kept)
