"""Do the database and the vector files agree? After a crash they may not: rows commit per batch and
vector files are saved at checkpoints. `repair` makes each index hold exactly the indexed rows' vectors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete, select, update

from xmodal.store.schema import EMBEDDED, INDEXED, PENDING, Duplicate, Item

if TYPE_CHECKING:
    from xmodal.store.store import Store


def verify(store: Store) -> list[str]:
    """Every disagreement between the database and the vector files, as sentences."""
    problems = []
    for modality in store.modalities:
        rows, pending, in_index = _row_and_vector_ids(store, modality)
        if orphans := in_index - rows - pending:
            problems.append(f"{modality}: {len(orphans)} vectors have no indexed row (e.g. id {min(orphans)})")
        if missing := rows - in_index:
            problems.append(f"{modality}: {len(missing)} indexed rows have no vector (e.g. id {min(missing)})")
        counted = len(store.vectors(modality))
        if counted != len(in_index):
            problems.append(f"{modality}: the index counts {counted} vectors but holds {len(in_index)} distinct ids")
    leftovers = sorted((store.directory / "vectors").glob("*.tmp"))
    return problems + [f"unfinished index write left behind: {path.name}" for path in leftovers]


def repair(store: Store) -> list[str]:
    """Fix what `verify` finds; returns what was done."""
    done = []
    for modality in store.modalities:
        rows, pending, in_index = _row_and_vector_ids(store, modality)
        if orphans := in_index - rows - pending:
            store.vectors(modality).remove(np.array(sorted(orphans)))
            done.append(f"removed {len(orphans)} {modality} vectors with no row")
        if landed := pending & in_index:  # a crash between the vector save and marking the rows: keep the ids
            _set_status(store, landed, INDEXED)
            done.append(f"made {len(landed)} {modality} rows searchable (their vectors were saved)")
        if unsaved := pending - in_index:  # never searchable, so no reader knows these ids
            with store.sessions.begin() as session:
                session.execute(delete(Duplicate).where(Duplicate.item_id.in_(unsaved)))
                session.execute(delete(Item).where(Item.id.in_(unsaved)))  # the next run embeds them again
            done.append(f"dropped {len(unsaved)} {modality} rows whose vectors were never saved (re-index to add them)")
        if missing := rows - in_index:
            with store.sessions.begin() as session:
                session.execute(delete(Duplicate).where(Duplicate.item_id.in_(missing)))
                session.execute(delete(Item).where(Item.id.in_(missing)))  # the next run embeds them again
            done.append(f"dropped {len(missing)} {modality} rows with no vector (re-index to restore them)")
    for leftover in (store.directory / "vectors").glob("*.tmp"):
        leftover.unlink()
        done.append(f"deleted unfinished index write {leftover.name}")
    store.save()
    return done


def _row_and_vector_ids(store: Store, modality: str) -> tuple[set[int], set[int], set[int]]:
    """(indexed rows, pending rows, ids in the vector index)."""
    query = select(Item.id, Item.status).where(Item.modality == modality, Item.status.in_(EMBEDDED))
    with store.sessions() as session:
        statuses = list(session.execute(query))
    rows = {item_id for item_id, status in statuses if status == INDEXED}
    pending = {item_id for item_id, status in statuses if status == PENDING}
    return rows, pending, set(store.vectors(modality).ids().tolist())


def _set_status(store: Store, item_ids: set[int], status: str) -> None:
    with store.sessions.begin() as session:
        session.execute(update(Item).where(Item.id.in_(item_ids)).values(status=status))
