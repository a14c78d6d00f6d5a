"""Pair a source's sounds with its pictures of the same concept (Scratch's dog bark with its dog costume).

A picture whose concept has sounds gets one of them (sounds are dealt round-robin over the
pictures, so each is used); its ``text`` becomes the sound's caption and the picture's own caption
goes into ``texts``. Sounds no picture took become sound-only records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Item:
    concept: str     # what it is, shared by a sound and a picture to pair them ("dog")
    category: str
    caption: str
    path: Path       # the file the manifest points at (a thumbnail, a sound)
    origin: Path     # the file it was made from (hashed against the reserved list)


def pair_by_concept(source: str, pictures: list[Item], sounds: list[Item]) -> list[tuple[dict, tuple[Path, ...]]]:
    """Records (with their origin files) for ``pictures`` and ``sounds``, paired where concepts meet."""
    queues: dict[str, list[Item]] = defaultdict(list)
    for sound in sounds:
        queues[sound.concept].append(sound)
    used: set[Path] = set()
    records = []
    for picture in pictures:
        record = {"concept": f"{source}/{picture.concept}", "category": picture.category, "image": picture.path,
                  "text": picture.caption}
        queue = queues.get(picture.concept)
        if queue:
            sound = queue.pop(0)
            queue.append(sound)
            used.add(sound.path)
            record.update(audio=sound.path, text=sound.caption, texts=[picture.caption])
            records.append((record, (picture.origin, sound.origin)))
        else:
            records.append((record, (picture.origin,)))
    for sound in sounds:
        if sound.path not in used:
            records.append(({"concept": f"{source}/{sound.concept}", "category": sound.category, "audio": sound.path,
                             "text": sound.caption}, (sound.origin,)))
    return records
