"""Collect one source's records, drop reserved files, and write ``manifest.jsonl`` and ``CREDITS.md``.

A record is a dict in the format ``xmodal.training.manifest`` reads: ``source``, ``concept``,
``category``, any two of ``image``/``audio``/``text``, and optional ``texts`` (other phrasings).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from data_sources.media import sha256_file

RESERVED_DROP = "same bytes as a file of a source reserved for evaluation"


@dataclass
class ManifestBuild:
    source: str
    records: list[dict] = field(default_factory=list)
    origins: list[tuple[Path, ...]] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    notes: Counter = field(default_factory=Counter)
    credits: str = ""  # licence and attribution, written to CREDITS.md

    def add(self, record: dict, origins: tuple[Path, ...] = ()) -> None:
        """Keep ``record``; ``origins`` are the files it was made from (hashed against the reserved list)."""
        self.records.append(manifest_line(self.source, **record))
        self.origins.append(tuple(origins))

    def drop(self, reason: str, item: str) -> None:
        self.dropped[reason].append(item)

    def drop_reserved(self, reserved_hashes: frozenset[str]) -> None:
        """Drop every record whose origin or output file has a reserved file's SHA-256."""
        if not reserved_hashes:
            return
        kept, kept_origins = [], []
        for record, origins in zip(self.records, self.origins):
            files = [*origins, *(Path(record[key]) for key in ("image", "audio") if record.get(key))]
            if any(path.is_file() and sha256_file(path) in reserved_hashes for path in files):
                self.drop(RESERVED_DROP, record["concept"])
            else:
                kept.append(record)
                kept_origins.append(origins)
        self.records, self.origins = kept, kept_origins

    def write(self, output: Path) -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(".partial")
        partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records), encoding="utf-8")
        partial.replace(output)

    def counts(self) -> dict[str, int]:
        images = sum(1 for r in self.records if r.get("image"))
        sounds = sum(1 for r in self.records if r.get("audio"))
        pairs = sum(1 for r in self.records if r.get("image") and r.get("audio"))
        return {"records": len(self.records), "images": images, "sounds": sounds, "image+sound": pairs,
                "concepts": len({r["concept"] for r in self.records}),
                "dropped": sum(len(items) for items in self.dropped.values())}

    def summary(self, show: int = 4) -> str:
        lines = [f"[{self.source}] " + ", ".join(f"{key} {value}" for key, value in self.counts().items())]
        lines += [f"  note: {key}: {value}" for key, value in sorted(self.notes.items())]
        for reason, items in sorted(self.dropped.items(), key=lambda item: -len(item[1])):
            more = " ..." if len(items) > show else ""
            lines.append(f"  dropped, {reason}: {len(items)}: {', '.join(items[:show])}{more}")
        return "\n".join(lines)


def manifest_line(source: str, *, concept: str, category: str, text: str, image: Path | None = None,
                  audio: Path | None = None, texts: list[str] | tuple[str, ...] = ()) -> dict:
    """One manifest record with its keys in a fixed order; at least one medium besides the text."""
    if image is None and audio is None:
        raise ValueError(f"{concept}: a record needs an image or a sound besides its text")
    record: dict = {"source": source, "concept": concept, "category": category}
    if image is not None:
        record["image"] = str(image)
    if audio is not None:
        record["audio"] = str(audio)
    record["text"] = text
    others = [t for t in dict.fromkeys(texts) if t and t.lower() != text.lower()]
    if others:
        record["texts"] = others
    return record


def write_credits(folder: Path, title: str, body: str) -> None:
    """``CREDITS.md`` beside the manifest: where the data came from, its licence and its authors."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "CREDITS.md").write_text(f"# {title}\n\n{body.strip()}\n", encoding="utf-8")
