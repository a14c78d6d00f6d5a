"""Pair manifests (JSONL) and concept-level splits.

One JSON object per line; any two of `image`, `audio`, `text` make a pair:

    {"image": "dog.png", "text": "A dog."}
    {"audio": "bark.ogg", "text": "A dog barking."}
    {"image": "dog.png", "audio": "bark.ogg"}
    {"concept": "animals/dog", "category": "animals", "image": ..., "audio": ..., "text": ..., "texts": [...]}
    {"source": "scratch", "concept": ..., ...}    (which data set the pair comes from)

`texts` are other phrasings used in training (the first `text` is the one evaluated); relative
paths are relative to the manifest. Records are grouped by a caption key ("A dog." and "dog"
are one group), so twins never straddle the train/test boundary.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

_ARTICLES = {"a", "an", "the", "some"}


@dataclass(frozen=True)
class Record:
    concept: str
    category: str = ""
    text: str | None = None
    texts: tuple[str, ...] = ()
    image: Path | None = None
    audio: Path | None = None
    source: str = ""

    @property
    def group(self) -> str:
        return caption_key(self.text) if self.text else self.concept

    def phrasings(self) -> tuple[str, ...]:
        return ((self.text,) if self.text else ()) + self.texts


def caption_key(text: str) -> str:
    """'A dog.' -> 'dog': lower case, words only, leading articles dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def read_manifest(path: Path) -> list[Record]:
    records = []
    base = path.parent
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
        given = [key for key in ("image", "audio", "text") if row.get(key)]
        if len(given) < 2:
            raise ValueError(
                f"{path}:{number}: a pair needs two of image, audio, text (got {', '.join(given) or 'none'})"
            )
        media = {key: _resolve(base, row[key]) for key in ("image", "audio") if row.get(key)}
        concept = row.get("concept") or (
            caption_key(row["text"]) if row.get("text") else str(next(iter(media.values())))
        )
        texts = tuple(text for text in row.get("texts", ()) if isinstance(text, str) and text.strip())
        records.append(
            Record(
                concept=str(concept),
                category=str(row.get("category", "")),
                text=row.get("text"),
                texts=texts,
                source=str(row.get("source", "")),
                **media,
            )
        )
    return records


def read_manifests(paths: Iterable[Path]) -> list[Record]:
    return [record for path in paths for record in read_manifest(Path(path))]


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


@dataclass
class Split:
    train: list[Record] = field(default_factory=list)
    val: list[Record] = field(default_factory=list)
    test: list[Record] = field(default_factory=list)
    category: list[Record] = field(default_factory=list)  # the held-out source category
    source: list[Record] = field(default_factory=list)  # the held-out data sets, whole

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SPLITS}


SPLITS = ("train", "val", "test", "category", "source")


def split_records(
    records: list[Record],
    holdout_concepts: set[str] = frozenset(),
    holdout_category: str | None = None,
    test_fraction: float = 0.15,
    val_fraction: float = 0.1,
    seed: int = 0,
    holdout_sources: frozenset[str] | set[str] = frozenset(),
) -> Split:
    """Whole groups go to one side. Groups of `holdout_concepts` are always test; groups that touch
    `holdout_category` or a source of `holdout_sources` train nowhere, and that category's and those
    sources' records form their own evaluation sets."""
    held_groups = {record.group for record in records if record.concept in holdout_concepts}
    category_groups = {record.group for record in records if holdout_category and record.category == holdout_category}
    category_groups |= {record.group for record in records if record.source in holdout_sources}
    split = Split()
    for record in records:
        if record.source in holdout_sources:
            split.source.append(record)
        elif holdout_category and record.category == holdout_category:
            split.category.append(record)
        elif record.group in category_groups:
            continue  # a twin of a held-out-category concept: neither trained on nor scored
        elif record.group in held_groups:
            split.test.append(record)
        else:
            where = _unit_hash(f"{seed}:{record.group}")
            side = (
                split.test
                if where < test_fraction
                else split.val
                if where < test_fraction + val_fraction
                else split.train
            )
            side.append(record)
    return split


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def holdout_concepts(path: Path | None) -> set[str]:
    """The concepts listed in a holdout file (one per line, `#` comments), or none without one."""
    if path is None:
        return set()
    return {line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines()} - {""}


def load_split(
    manifests: Iterable[Path],
    holdout: Path | None = None,
    category: str | None = None,
    test_fraction: float = 0.15,
    val_fraction: float = 0.1,
    seed: int = 0,
    sources: Iterable[str] = (),
) -> "Split":
    """The manifests' records split as `xmodal train` and `xmodal eval` split them."""
    records = read_manifests(list(manifests))
    sources = set(sources or ())
    unknown = sources - {record.source for record in records}
    if unknown:
        raise ValueError(f"--holdout-source {', '.join(sorted(unknown))}: no record of the manifests has that source")
    return split_records(records, holdout_concepts(holdout), category, test_fraction, val_fraction, seed, sources)
