"""OpenSFX, OpenTTD's free sound set (Debian ``openttd-opensfx``; sounds CC-BY-SA-3.0, some CC0/CC-BY-3.0).

``opensfx.cat`` is OpenTTD's sound catalogue: a table of (offset | 1 << 31, size) little-endian
uint32 pairs, the first offset divided by 8 giving the count; at each offset one length byte, a
NUL-terminated name, then ``size`` bytes of RIFF WAVE. Each name holds the sound's title in
quotes, then its authors and licence ("\\"Cow\\". Original \\"Cow - Moan 2.wav\\" by ...").

Titles name the game event ("Toyland: Toffee quarry"), not always what is heard, so captions come
from a table written from the titles and the original recordings' names; game jingles, empty
slots and sounds whose title says nothing about what is heard are left out.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem

NAME = "opensfx"
PACKAGE = "openttd-opensfx"
CATALOGUE = Path("usr/share/games/openttd/baseset/opensfx/opensfx.cat")

# Title -> (concept, category, caption); None: left out.
CAPTIONS: dict[str, tuple[str, str, str] | None] = {
    "Good Year": None, "Bad Year": None, "Splat (building docks/canals/river)": None,
    "Factory Whistle": ("factory whistle", "machines", "a factory whistle blowing"),
    "Steam train station departure": ("steam train", "vehicles", "a steam train whistle"),
    "Steam engine going in tunnel": ("steam train", "vehicles", "a steam locomotive whistling"),
    "Ship horn": ("ship", "vehicles", "a ship's horn"), "Ferry horn": ("ship", "vehicles", "a ferry horn blowing"),
    "Propeller plane start": ("propeller plane", "vehicles", "a propeller plane starting up"),
    "Early jet take off": ("jet plane", "vehicles", "a jet plane taking off"),
    "Diesel/electric train station departure": ("train", "vehicles", "a diesel train horn"),
    "Mining machinery": ("machinery", "machines", "heavy machinery rumbling"),
    "Electric sparking": ("electric sparks", "machines", "electric sparks crackling"),
    "Steam (of steam engine)": ("steam", "machines", "steam hissing"),
    "Level crossing": ("railroad crossing", "vehicles", "a railroad crossing bell ringing"),
    "Road vehicle breakdown": None, "Train/ship breakdown": None,
    "Crash": ("crash", "impacts", "a loud crash"), "Explosion": ("explosion", "impacts", "an explosion"),
    "Big crash": ("crash", "impacts", "a big crash"), "Cash till": ("cash register", "machines", "a cash register"),
    "Beep": ("beep", "signals", "a short beep"), "Morse": ("morse code", "signals", "morse code beeping"),
    "Plane wheels touching ground": ("tires screeching", "vehicles", "tires screeching"),
    "Helicopter": ("helicopter", "vehicles", "a helicopter flying"),
    "Truck/old bus start, pull away": ("truck", "vehicles", "an old truck starting and driving away"),
    "Truck/old bus start, pull away with horn": ("truck", "vehicles", "an old truck starting and honking its horn"),
    "Modern bus start": ("bus", "vehicles", "a bus pulling away"), "Old bus start": ("bus", "vehicles", "an old bus starting"),
    "Applause": ("applause", "people", "a crowd applauding"), "Oooh sound": ("crowd", "people", "a crowd going oooh"),
    "Splat (terraform/non-rail builds": None, "Splat (rail builds)": None,
    "Jackhammer": ("jackhammer", "machines", "a jackhammer"), "Unused/Nothing": None,
    "Modern car horn": ("car horn", "vehicles", "a car horn honking"), "Sheep": ("sheep", "animals", "sheep bleating"),
    "Cow": ("cow", "animals", "a cow mooing"), "Horse": ("horse", "animals", "a horse neighing"),
    "Building bridge": ("hammering", "machines", "a blacksmith hammering on metal"),
    "Sawmill": ("circular saw", "machines", "a circular saw cutting wood"),
    "Toyland: Sugar mine (1)": None, "Toyland: Toy factory (1)": None, "Toyland: Toy factory (2)": None,
    "Toyland: Toy factory (3)": None, "Toyland: Sugar mine (2)": None,
    "Toyland: Bubble generated": ("bubbles", "water", "bubbles bubbling"),
    "Toyland: Bubble plop": ("bubble", "water", "a bubble popping"), "Toyland: Toffee quarry": None,
    "Toyland: Bubble slurped": ("slurp", "people", "a loud slurp"), "Unused/Nothing | OpenSFX 1.0.3": None,
    "Toyland: Plastic mine": None, "Wind": ("wind", "weather", "wind blowing"),
    "Toyland: Road vehicle breakdown": None,
    "Lumber mill: Crashing tree": ("falling tree", "nature", "a tree crashing to the ground"),
    "Lumber mill: Falling tree": ("falling tree", "nature", "a tree being cut down and falling"),
    "Lumber mill: Chainsaw": ("chainsaw", "machines", "a chainsaw"),
    "Heavy wind": ("wind", "weather", "strong wind howling"), "Toyland: Train breakdown": None,
    "Mach 1+ Jet take off": ("jet plane", "vehicles", "a fighter jet taking off"),
    "Toyland: Comedy bus start (1)": None, "Modern jet take off": ("jet plane", "vehicles", "jet planes roaring past"),
    "Toyland: Comedy bus start (2)": None, "Toyland: Comedy truck start (1)": None,
    "Toyland: Comedy truck start (2)": None,
    "Maglev train station departure": ("subway train", "vehicles", "a subway train leaving the station"),
    "Tropical: Bird (1)": ("tropical bird", "animals", "a tropical bird calling"),
    "Tropical: Lion roar": ("lion", "animals", "a lion roaring"), "Tropical: Monkeys": ("monkey", "animals", "monkeys screeching"),
    "Toyland: Propeller plane take off": ("propeller plane", "vehicles", "a propeller plane taking off"),
    "Toyland: Jet take off": None,
    "Monorail train station departure": ("train", "vehicles", "a train passing by"),
    "Tropical: Bird (2)": ("tropical bird", "animals", "a tropical bird calling"),
}
CREDITS_HEAD = """Source: Debian package `openttd-opensfx` {version} (OpenSFX, the free base sounds of OpenTTD,
https://www.openttd.org). The set is licensed CC-BY-SA-3.0; each sound's own authors and licence, as
the catalogue states them, are listed below. Captions were written for this project from the titles."""


@dataclass(frozen=True)
class CatEntry:
    index: int
    name: str   # the full entry name: title, authors, licence
    wav: bytes

    @property
    def title(self) -> str:
        found = re.match(r'\s*"([^"]*)"', self.name)
        return found.group(1) if found else self.name.split(".")[0]


def parse_cat(data: bytes) -> list[CatEntry]:
    """Entries of an OpenTTD sound catalogue (``.cat``)."""
    if len(data) < 8:
        raise ValueError("not an OpenTTD sound catalogue: too short")
    count = (struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF) // 8
    entries = []
    for index in range(count):
        offset, size = struct.unpack_from("<II", data, index * 8)
        offset &= 0x7FFFFFFF
        name_length = data[offset]
        name = data[offset + 1: offset + 1 + name_length].rstrip(b"\0").decode("latin-1")
        start = offset + 1 + name_length
        wav = data[start: start + size]
        if len(wav) != size or wav[:4] != b"RIFF":
            raise ValueError(f"entry {index} ({name[:40]!r}) is not a RIFF WAVE of {size} bytes")
        entries.append(CatEntry(index, name, wav))
    return entries


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    root, versions = fetch_debs((PACKAGE,), cache)
    catalogue = root / CATALOGUE
    sounds_dir = cache / "sounds"
    sounds_dir.mkdir(parents=True, exist_ok=True)
    credit_lines = []
    result = ManifestBuild(NAME)
    seen: dict[str, str] = {}
    for entry in parse_cat(catalogue.read_bytes()):
        caption = CAPTIONS.get(entry.title, ())
        if caption == ():
            result.drop("title not in the caption table", entry.title)
            continue
        if caption is None:
            result.drop("jingle, empty slot, or a title that does not say what is heard", entry.title)
            continue
        wav = sounds_dir / f"{entry.index:02d}.wav"
        if not wav.exists() or wav.stat().st_size != len(entry.wav):
            partial = wav.with_suffix(".partial")
            partial.write_bytes(entry.wav)
            partial.replace(wav)
        problem, digest = audio_problem(wav)
        if problem or digest in seen:
            result.drop(problem.split(" (")[0] if problem else "duplicate", entry.title)
            continue
        seen[digest] = entry.title
        concept, category, text = caption
        result.add({"concept": f"opensfx/{concept}", "category": f"sounds/{category}", "audio": wav, "text": text},
                   (wav,))
        credit_lines.append(f"- `{wav.name}` ({text}): {entry.name}")
    result.credits = CREDITS_HEAD.format(version=versions[PACKAGE]) + "\n\n" + "\n".join(credit_lines)
    result.drop_reserved(reserved)
    return result
