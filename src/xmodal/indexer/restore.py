"""Re-embedding lost rows: items whose vectors are gone (a missing `vectors/` folder, a damaged file set
aside) keep their ids and metadata, and get their vectors back from what they were made of: a text
row from its stored text, a file from the file, if it still holds the content that was indexed.

Rows that cannot be re-embedded stay LOST (unsearchable) and are reported, never deleted: a file that
is gone may come back (a disk not mounted), and `xmodal index --prune` forgets it once it is gone for good.
A file whose content changed is left to the next index job of it, which replaces the row as for any edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xmodal.config import Settings
from xmodal.encoders import Encoder
from xmodal.indexer.decode import hash_source
from xmodal.indexer.embed import EmbedTask, local_runner
from xmodal.indexer.sources import Source
from xmodal.modalities import Limits
from xmodal.store import Item, Store


@dataclass
class Restored:
    restored: dict[str, int] = field(default_factory=dict)  # modality -> rows re-embedded under their ids
    kept: list[tuple[int, str, str]] = field(default_factory=list)  # (id, where, why) of rows still lost

    def lines(self) -> list[str]:
        done = [f"re-embedded {count} {modality} items under their ids" for modality, count in self.restored.items()]
        if self.kept:
            item_id, where, why = self.kept[0]
            done.append(
                f"kept {len(self.kept)} rows that could not be re-embedded, unsearchable (e.g. id {item_id}, {where}: "
                f"{why}); restore their files and run `xmodal check --repair` again, or `xmodal index --prune` "
                "their folders to forget them"
            )
        return done


def restore_lost(store: Store, encoder: Encoder, settings: Settings) -> Restored:
    """Re-embed every LOST row that can be, keeping its id; saves the store."""
    report = Restored()
    tasks = [task for row in store.lost() if (task := _task(row, encoder, report, store)) is not None]
    limits = Limits.for_indexing(settings, encoder.image_input_side)
    runner = local_runner(encoder, limits, settings.batch_size, settings.workers)
    try:
        for batch in runner.embed(tasks):
            for result in batch:
                if result.error is not None:
                    report.kept.append((result.task.key, result.task.source.label, result.error))
            done = [result for result in batch if result.error is None]
            for modality in {result.task.source.modality for result in done}:
                mine = [result for result in done if result.task.source.modality == modality]
                vectors = np.stack([result.vector for result in mine])  # type: ignore[misc]
                store.restore(modality, [result.task.key for result in mine], vectors)
                report.restored[modality] = report.restored.get(modality, 0) + len(mine)
    finally:
        runner.close()
    store.save()
    return report


def _task(row: Item, encoder: Encoder, report: Restored, store: Store) -> EmbedTask | None:
    """What to embed for a lost row: its stored text, or its file while it holds the indexed content
    (for a piece of an item's file, a video's frame: that file)."""
    path = row.path
    if row.piece is not None and row.parent_id is not None:
        item = store.get([row.parent_id]).get(row.parent_id)
        path = item.path if item is not None else None
    where = path or f"text item {row.id}"
    if row.modality not in encoder.info.modalities:
        report.kept.append((row.id, where, encoder.refusal(row.modality)))
        return None
    if row.modality == "text" and row.text is not None:  # what was embedded is in the row itself
        return EmbedTask(row.id, Source("text", text=row.text))
    if path is None:
        report.kept.append((row.id, where, "it has neither a file nor a stored text"))
        return None
    source = Source(row.modality, path, piece=row.piece)
    hashed = hash_source(source)
    if hashed.error is not None:
        report.kept.append((row.id, where, hashed.error))
        return None
    if hashed.content_hash != row.content_hash:
        report.kept.append((row.id, where, "the file changed since it was indexed (index it again)"))
        return None
    return EmbedTask(row.id, source)
