"""Items made of parts: writing an item and its parts in one transaction, removing parts with their
item, and keeping the item's fused vector (early fusion, `vectors/item`) in step with its parts.

A part is an ordinary row of its modality (own vector, content hash, path or inline text) whose
`parent_id` names an ITEM row; the ITEM row holds the external id, the metadata and the fused vector.
Like every row, a written item and its new parts are pending until the save that writes their vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from xmodal.fusion import fused_vector
from xmodal.store.schema import EMBEDDED, ITEM, LOST, PENDING, Duplicate, Item

if TYPE_CHECKING:
    from xmodal.store.store import Store


@dataclass(frozen=True)
class KeptPart:
    """A stored part that stays (maybe at a new path, or a single-file item adopted as a part)."""

    item_id: int
    path: str | None
    size: int | None
    mtime: float | None


@dataclass
class ItemWrite:
    """What one item becomes: its metadata, the parts kept, removed and added (rows with vectors)."""

    external_id: str
    metadata: dict[str, Any]
    parent_id: int | None = None  # the stored item, None for a new one
    kept: list[KeptPart] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    new: list[tuple[Item, np.ndarray]] = field(default_factory=list)
    file: KeptPart | None = None  # the file the whole item comes from (a video; `item_id` unused)
    file_hash: str | None = None


def write_item(store: Store, change: ItemWrite) -> int:
    """Carry out one item's change in one transaction; returns the item's id. The item keeps its id
    across changes; its fused vector is recomputed from the parts it has afterwards."""
    with store.sessions.begin() as session:
        parent = session.get(Item, change.parent_id) if change.parent_id is not None else None
        if parent is None:
            parent = Item(external_id=change.external_id, modality=ITEM, meta=change.metadata, status=PENDING)
            session.add(parent)
            session.flush()
        parent.meta, parent.status = change.metadata, PENDING  # searchable again at the save with its vector
        losing = _delete_rows(store, session, change.removed) - {parent.id}
        if change.file is not None:
            parent.path, parent.size, parent.mtime = change.file.path, change.file.size, change.file.mtime
            parent.content_hash = change.file_hash
        for kept in change.kept:
            values = dict(path=kept.path, size=kept.size, mtime=kept.mtime, parent_id=parent.id, meta=change.metadata)
            session.execute(update(Item).where(Item.id == kept.item_id).values(**values))
        new_paths = [row.path for row, _ in change.new if row.path is not None]
        if new_paths:
            session.execute(delete(Duplicate).where(Duplicate.path.in_(new_paths)))
        for row, _ in change.new:
            row.parent_id, row.meta, row.status = parent.id, change.metadata, PENDING
        session.add_all([row for row, _ in change.new])
        session.flush()
        for row, vector in change.new:
            store.vectors(row.modality).add(np.array([row.id], dtype=np.int64), vector.reshape(1, -1))
        _refresh(store, session, [parent.id, *losing])  # and any other item that lost a part to this one
        session.expunge_all()
        return parent.id


def parts_of(store: Store, parent_ids: Iterable[int], embedded_only: bool = True) -> dict[int, list[Item]]:
    """{item id: its part rows, in id order} (parts with a vector only, unless `embedded_only` is False)."""
    wanted = list(parent_ids)
    query = select(Item).where(Item.parent_id.in_(wanted))
    if embedded_only:
        query = query.where(Item.status.in_(EMBEDDED))
    found: dict[int, list[Item]] = {parent: [] for parent in wanted}
    with store.sessions() as session:
        for part in session.scalars(query.order_by(Item.id)):
            found[part.parent_id].append(part)  # type: ignore[index]
    return found


def removal(session: Session, item_ids: Sequence[int]) -> tuple[list[Item], set[int]]:
    """The rows a removal of `item_ids` takes (an item's parts go with it) and the items that lose
    parts but stay (their fused vectors must be recomputed)."""
    rows = list(session.scalars(select(Item).where(Item.id.in_(item_ids))))
    parents = [row.id for row in rows if row.modality == ITEM]
    if parents:
        rows += list(session.scalars(select(Item).where(Item.parent_id.in_(parents), Item.id.not_in(item_ids))))
    gone = {row.id for row in rows}
    losing = {row.parent_id for row in rows if row.parent_id is not None and row.parent_id not in gone}
    return rows, losing  # type: ignore[return-value]


def refresh(store: Store, parent_ids: Iterable[int]) -> None:
    """Recompute the fused vectors of these items from their parts; an item left without parts goes."""
    with store.sessions.begin() as session:
        _refresh(store, session, list(parent_ids))


def _refresh(store: Store, session: Session, parent_ids: list[int]) -> None:
    """Each item's fused vector from its parts that have vectors (lost parts given theirs back count too).
    An item with no such part goes, unless some of its parts are lost: then it is lost with them, kept
    for the re-embedding that gives it back (`Store.restore` calls `restored`)."""
    if not parent_ids:
        return
    session.flush()
    query = select(Item).where(Item.parent_id.in_(parent_ids), Item.status.in_((*EMBEDDED, LOST)))
    by_parent: dict[int, list[Item]] = {parent: [] for parent in parent_ids}
    for part in session.scalars(query):
        by_parent[part.parent_id].append(part)  # type: ignore[index]
    back = set(store.restored_ids)
    fused = store.vectors(ITEM)
    gone = []
    for parent, found in by_parent.items():
        usable = [part for part in found if part.status in EMBEDDED or part.id in back]
        ids = np.array([parent], dtype=np.int64)
        fused.remove(ids)
        if not usable:
            if found:  # every part with a vector is lost: so is the item, until they are re-embedded
                session.execute(update(Item).where(Item.id == parent).values(status=LOST))
            else:
                gone.append(parent)
            continue
        vectors = [store.vectors(part.modality).vector(part.id) for part in usable]
        fused.add(ids, fused_vector(vectors, [part.modality for part in usable]).reshape(1, -1))
        row = session.get(Item, parent)
        if row is not None and row.status == LOST:
            store.restored_ids.append(parent)  # searchable again at the next save, as its parts
        else:
            session.execute(update(Item).where(Item.id == parent).values(status=PENDING))
    _delete_rows(store, session, gone)


def restored(store: Store, item_ids: Sequence[int]) -> None:
    """Lost parts got their vectors back: recompute their items' fused vectors."""
    with store.sessions.begin() as session:
        query = select(Item.parent_id).where(Item.id.in_(list(item_ids)), Item.parent_id.is_not(None))
        _refresh(store, session, sorted(set(session.scalars(query))))  # type: ignore[arg-type]


def _delete_rows(store: Store, session: Session, item_ids: Sequence[int]) -> set[int]:
    """Delete rows and their vectors (an ITEM's parts too); returns the items that lost parts."""
    if not item_ids:
        return set()
    rows, losing = removal(session, item_ids)
    for modality in {row.modality for row in rows}:
        store.vectors(modality).remove(np.array([row.id for row in rows if row.modality == modality]))
    ids = [row.id for row in rows]
    session.execute(delete(Duplicate).where(Duplicate.item_id.in_(ids)))
    session.execute(delete(Item).where(Item.id.in_(ids)))
    return losing
