"""Do the database and the vector files agree? After a crash they may not: rows commit per batch and
vector files are saved at checkpoints. `repair` makes each index hold exactly the indexed rows' vectors.

Repair never deletes a row that readers knew because its vector is missing (a `vectors/` folder lost,
a damaged file set aside): the row becomes LOST, keeps its id and metadata, and is re-embedded from its
file by `xmodal.indexer.restore` (check --repair, or the next index job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete, select, text, update

from xmodal.store import parts
from xmodal.store.records import StoreDamaged
from xmodal.store.schema import INDEXED, ITEM, LOST, PENDING, Duplicate, Item

if TYPE_CHECKING:
    from xmodal.store.store import Store

DAMAGED_SUFFIX = ".damaged"  # a vector file that cannot be read is kept beside the store under this suffix


def verify(store: Store) -> list[str]:
    """Every disagreement between the database and the vector files, as sentences."""
    problems = []
    for modality in store.modalities:
        ids = _row_and_vector_ids(store, modality)
        rows, pending, lost, in_index = ids
        if orphans := in_index - rows - pending - lost:
            problems.append(f"{modality}: {len(orphans)} vectors have no indexed row (e.g. id {min(orphans)})")
        if missing := rows - in_index:
            problems.append(f"{modality}: {len(missing)} indexed rows have no vector (e.g. id {min(missing)})")
        if lost:
            problems.append(
                f"{modality}: {len(lost)} rows wait to be re-embedded, their vectors were lost (e.g. id {min(lost)})"
            )
        counted = len(store.vectors(modality))
        if counted != len(in_index):
            problems.append(f"{modality}: the index counts {counted} vectors but holds {len(in_index)} distinct ids")
    if orphans := _orphan_parts(store):
        problems.append(f"{len(orphans)} parts belong to no item (e.g. id {min(orphans)})")
    leftovers = sorted((store.directory / "vectors").glob("*.tmp"))
    return problems + [f"unfinished index write left behind: {path.name}" for path in leftovers]


def repair(store: Store) -> list[str]:
    """Fix what `verify` finds, short of re-embedding; returns what was done. Items with parts first: a
    dropped item's parts go with it, and an item whose parts changed (or whose write a crash interrupted,
    or whose fused vector is missing) gets its fused vector recomputed from the parts it has."""
    done = []
    touched: set[int] = set()  # items whose parts or fused vector may be out of step
    for modality in (ITEM, *(name for name in store.modalities if name != ITEM)):
        rows, pending, lost, in_index = _row_and_vector_ids(store, modality)
        touched |= _parents_of(store, pending | (rows - in_index))
        if modality == ITEM:
            touched |= (pending & in_index) | (rows - in_index)  # a fused vector is recomputed, never lost
            rows = rows & in_index
        if orphans := in_index - rows - pending - lost:
            store.vectors(modality).remove(np.array(sorted(orphans)))
            done.append(f"removed {len(orphans)} {modality} vectors with no row")
        if landed := (pending | lost) & in_index:  # a crash between the vector save and marking the rows
            _set_status(store, landed, INDEXED)
            done.append(f"made {len(landed)} {modality} rows searchable (their vectors were saved)")
        if unsaved := pending - in_index:  # never searchable, so no reader knows these ids
            with store.sessions.begin() as session:
                session.execute(delete(Duplicate).where(Duplicate.item_id.in_(unsaved)))
                session.execute(delete(Item).where(Item.id.in_(unsaved)))  # the next run embeds them again
            done.append(f"dropped {len(unsaved)} {modality} rows whose vectors were never saved (re-index to add them)")
        if missing := rows - in_index:  # readers know these ids: keep them, to be re-embedded
            _set_status(store, missing, LOST)
            done.append(f"kept {len(missing)} {modality} rows whose vectors are missing, to be re-embedded")
    if orphans := _orphan_parts(store):
        store.remove(sorted(orphans))
        done.append(f"removed {len(orphans)} parts whose item was gone")
    if touched := {parent for parent in touched if store.get([parent])}:
        parts.refresh(store, touched)
        done.append(f"recomputed the fused vectors of {len(touched)} items with parts")
    for leftover in (store.directory / "vectors").glob("*.tmp"):
        leftover.unlink()
        done.append(f"deleted unfinished index write {leftover.name}")
    store.save()
    return done


def set_aside_damaged(store: Store) -> list[tuple[str, str]]:
    """Move each vector file that cannot be read aside (kept as `<file>.damaged`), so that an empty index
    takes its place and `repair` marks its rows for re-embedding; returns (file name, why) of each."""
    done = []
    for modality in store.modalities:
        try:
            store.vectors(modality)
        except StoreDamaged as error:
            damaged = store.vector_file(modality)
            damaged.replace(damaged.with_name(damaged.name + DAMAGED_SUFFIX))
            done.append((damaged.name, str(error)))
    return done


def database_problems(store: Store) -> list[str]:
    """SQLite's own check of every page and index of the database (other databases check themselves)."""
    if store.dialect != "sqlite":
        return []
    with store.engine.connect() as connection:
        found = [line for row in connection.execute(text("PRAGMA integrity_check(20)")) for line in row[0].splitlines()]
    return [] if found == ["ok"] else [line for line in found if not line.startswith("*** ")]  # a heading, no news


def _row_and_vector_ids(store: Store, modality: str) -> tuple[set[int], set[int], set[int], set[int]]:
    """(indexed rows, pending rows, lost rows, ids in the vector index)."""
    query = select(Item.id, Item.status).where(Item.modality == modality, Item.status.in_((INDEXED, PENDING, LOST)))
    with store.sessions() as session:
        statuses = list(session.execute(query))
    by_status: dict[str, set[int]] = {INDEXED: set(), PENDING: set(), LOST: set()}
    for item_id, status in statuses:
        by_status[status].add(item_id)
    return by_status[INDEXED], by_status[PENDING], by_status[LOST], set(store.vectors(modality).ids().tolist())


def _parents_of(store: Store, item_ids: set[int]) -> set[int]:
    if not item_ids:
        return set()
    with store.sessions() as session:
        found = session.scalars(select(Item.parent_id).where(Item.id.in_(item_ids), Item.parent_id.is_not(None)))
        return set(found)  # type: ignore[arg-type]


def _orphan_parts(store: Store) -> set[int]:
    """Parts whose item row is gone (dropped by a repair, or a crash between two writes)."""
    parents = select(Item.id).where(Item.modality == ITEM)
    query = select(Item.id).where(Item.parent_id.is_not(None), Item.parent_id.not_in(parents))
    with store.sessions() as session:
        return set(session.scalars(query))


def _set_status(store: Store, item_ids: set[int], status: str) -> None:
    ordered = sorted(item_ids)
    with store.sessions.begin() as session:
        for start in range(0, len(ordered), 10_000):  # within every database's limit on bound parameters
            session.execute(update(Item).where(Item.id.in_(ordered[start : start + 10_000])).values(status=status))
