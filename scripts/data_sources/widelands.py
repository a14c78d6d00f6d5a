"""Widelands (Debian ``widelands-data``, GPL-2.0+ by the Widelands Development Team): work and animal sounds.

Only ``data/sound`` and the duck's folder are extracted from the 380 MB package. A sound's group is
its path with the variant number removed (``sound/animals/bird2_03.ogg`` -> ``sound/animals/bird2``);
captions come from a table of groups (or of single files, where two variants have different origins),
written from the names, from the package's own sound list (``wl-sound-docu.csv``: usage in the game,
the original recording's title) and from checks of the recordings (YAMNet labels, spectrograms).
Interface sounds, fanfares, and sounds whose recording does not match or say more than their name
(``mill_turning``, ``fizzle``, ``crickets``: broad noise) are left out.

The game pads many effects with seconds of digital silence (it plays them less often that way:
a 13 s wolf howl file holds 3 s of howl); leading and trailing silence is trimmed into a WAV copy,
so a clip's embedding is of the sound and not of the silence.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem

NAME = "widelands"
PACKAGE = "widelands-data"
DATA = Path("usr/share/games/widelands/data")
MEMBERS = (f"./{DATA}/sound", f"./{DATA}/world/critters/duck", "./usr/share/doc/widelands-data/copyright")
SOUND_LIST = "sound/wl-sound-docu.csv"
CREDITS = """Source: Debian package `widelands-data` {version} (Widelands, https://www.widelands.org).
Licence: GPL-2.0+, Copyright 2002-2019 by the Widelands Development Team. The package's
`usr/share/doc/widelands-data/copyright` lists every file (`Files: *`), sounds included, under GPL-2+
for the Widelands Development Team; its other entries are fonts, tribe images (also GPL-2+) and three
music tracks (CC-BY-SA-3.0, not used here). The package's own sound list (`data/sound/wl-sound-docu.csv`)
records, for some effects, the recording they were reworked from and the licence that recording
carried; they are listed below as the list states them (CC-0, CC-3 = Creative Commons 3.0, PD = public
domain). One sound the list marks as "personal" (`sound/animals/boar.ogg`) is left out. Leading and
trailing silence was trimmed (written as WAV); otherwise the sounds are unchanged. Captions were written
for this project from the file names, the sound list and checks of the recordings."""

# Group (path under data/ without ".ogg" and variant number) or single file -> (concept, category, caption).
CAPTIONS: dict[str, tuple[str, str, str]] = {
    "sound/animals/bird1": ("bird", "animals", "a bird whistling"),
    "sound/animals/bird2": ("bird", "animals", "a bird calling"),
    "sound/animals/bird3": ("bird", "animals", "a bird chirping"),
    # A steady 4.5 kHz pulsed trill: YAMNet hears a cricket, the name says bird; the caption says what both hear.
    "sound/animals/bird4": ("trill", "animals", "a high-pitched trilling chirp"),
    "sound/animals/bird5": ("bird", "animals", "a bird singing"),
    "sound/animals/bird6": ("bird", "animals", "a bird chirping"),
    "sound/animals/coyote": ("coyote", "animals", "a coyote howling"),
    "sound/animals/frog": ("frog", "animals", "a frog croaking"),
    "sound/animals/moose": ("elk", "animals", "an elk bellowing"),  # originals: "Elk Bellowing In Forest"
    "sound/animals/stag": ("deer", "animals", "a red deer stag roaring"),  # original: "Red stag roar"
    "sound/animals/wolf": ("wolf", "animals", "a wolf howling"),
    "sound/farm/donkey": ("donkey", "animals", "a donkey braying"),
    "sound/farm/farm_animal": ("pig", "animals", "a pig grunting"),  # played by the piggery
    "sound/farm/horse": ("horse", "animals", "a horse neighing"),
    "sound/farm/ox": ("ox", "animals", "an ox mooing"),
    "sound/farm/sheep": ("sheep", "animals", "a sheep bleating"),
    "world/critters/duck/duck": ("duck", "animals", "a duck quacking"),
    "sound/atlanteans/cutting/stonecutter": ("pickaxe", "work", "a pickaxe striking rock"),
    "sound/atlanteans/goldspin": ("metal", "impacts", "small pieces of metal falling and clinking"),
    "sound/atlanteans/saw/benchsaw": ("saw", "work", "a saw cutting wood"),
    "sound/atlanteans/saw/sawing": ("saw", "work", "sawing wood with a hand saw"),
    "sound/sawmill/sawmill": ("saw", "work", "a saw cutting wood"),
    "sound/barbarians/mortar": ("stones", "work", "stones knocking together"),  # "gathering stone resources"
    "sound/barbarians/stonegrind": ("grinding", "work", "stone grinding against stone"),
    "sound/barbarians/weaver": ("loom", "work", "an old wooden loom weaving"),
    "sound/mill/weaving": ("loom", "work", "a weaving loom clattering"),
    "sound/farm/scythe": ("scythe", "work", "a scythe swishing through grass"),
    "sound/hammering/geologist_hammer": ("hammer", "work", "a hammer tapping on rock"),
    "sound/hammering/hammering": ("hammer", "work", "a hammer hitting wood"),
    "sound/smiths/toolsmith": ("hammer", "work", "a hammer hitting metal"),
    "sound/smiths/smith": ("anvil", "work", "a blacksmith hammering on an anvil"),
    "sound/smiths/sharpening": ("sharpening", "work", "a blade being sharpened"),
    "sound/stonecutting/stonecutter": ("chisel", "work", "a hammer and chisel cutting stone"),
    "sound/stonecutting/stonemason": ("chisel", "work", "a hammer and chisel cutting stone"),
    "sound/woodcutting/fast_woodcutting": ("axe", "work", "chopping wood quickly with an axe"),
    "sound/woodcutting/woodcutting": ("axe", "work", "chopping wood with an axe"),
    "sound/woodcutting/tree_falling": ("falling tree", "nature", "a tree crashing to the ground"),
    "sound/metal/furnace": ("fire", "work", "a fire roaring and crackling"),
    "sound/metal/goldping": ("metal ping", "impacts", "a metallic ping"),
    "sound/metal/ironping": ("metal ping", "impacts", "a metallic ping"),
    "sound/other/falling_tools": ("tools", "impacts", "tools falling with a clatter"),
    "sound/empire/beerbubble": ("bubbles", "water", "liquid gurgling and bubbling"),
    "sound/empire/winebubble": ("bubbles", "water", "big bubbles plopping in water"),
    "sound/fisher/fisher_pull_net": ("splash", "water", "a small splash of water"),
    # Inn and tavern variants come from different recordings, so these are per file.
    "sound/barbarians/taverns/inn_00": ("dishes", "kitchen", "dishes and cutlery clattering"),
    "sound/barbarians/taverns/inn_01": ("frying", "kitchen", "food sizzling in a frying pan"),
    "sound/barbarians/taverns/biginn_00": ("dishes", "kitchen", "dishes and cutlery clattering"),
    "sound/barbarians/taverns/biginn_01": ("glass jar", "kitchen", "a glass jar clinking"),
    "sound/barbarians/taverns/tavern": ("dishes", "kitchen", "dishes clattering"),
    "sound/empire/taverns/meal_00": ("dishes", "kitchen", "dishes and cutlery clattering"),
    "sound/empire/taverns/ration": ("dishes", "kitchen", "dishes clattering"),
}
INTERFACE = "interface sound or fanfare"
UNCLEAR = "unclear: the name or its origin does not say what is heard, or the recording does not match it"
# Group or single file -> why it is left out.
DROPS: dict[str, str] = {
    "sound/click": INTERFACE, "sound/create_construction_site": INTERFACE, "sound/lobby_chat": INTERFACE,
    "sound/lobby_freshmen": INTERFACE, "sound/message": INTERFACE,
    "sound/military/site_occupied": INTERFACE, "sound/military/under_attack": INTERFACE,
    "sound/animals/boar": "licence doubtful: the sound list gives its original's licence as 'personal'",
    "sound/animals/crickets1": UNCLEAR, "sound/animals/crickets2": UNCLEAR,  # broad noise, no cricket pulses
    "sound/barbarians/blackwood": UNCLEAR,  # original "Creek-1.wav", heard as a bleat
    "sound/metal/fizzle": UNCLEAR,  # original a fire, heard as a power tool
    "sound/mill/mill_turning": UNCLEAR,  # crackling noise
    "sound/empire/taverns/meal_01": UNCLEAR,  # original "Bottle-2.wav", heard as a click
    "sound/fisher/fisher_throw_net": UNCLEAR,  # 0.4 s, heard as a breath
}
SILENCE_DB = -50.0  # below this (in 50 ms windows) a game file's padding is digital silence
KEEP_AROUND = 0.15  # seconds of the quiet edge kept before and after the sound
MIN_TRIM = 0.5  # trim only when it removes this much: short files are used as they are


def sound_group(relative: str) -> str:
    """``sound/animals/bird2_03.ogg`` -> ``sound/animals/bird2``; ``sound/animals/frog.ogg`` stays ``.../frog``."""
    return re.sub(r"_\d+$", "", relative.removesuffix(".ogg"))


def lookup(relative: str) -> tuple[str, str, str] | str | None:
    """A caption, the reason it is left out, or None (not in either table); single files win over groups."""
    stem = relative.removesuffix(".ogg")
    for key in (stem, sound_group(relative)):
        if key in CAPTIONS:
            return CAPTIONS[key]
        if key in DROPS:
            return DROPS[key]
    return None


def sound_span(samples: np.ndarray, rate: int) -> tuple[int, int]:
    """[start, end) of ``samples`` (mono) without leading and trailing silence, ``KEEP_AROUND`` s kept each side."""
    window = max(1, int(rate * 0.05))
    count = len(samples) // window
    if count == 0:
        return 0, len(samples)
    rms = np.sqrt(np.mean(samples[: count * window].reshape(count, window).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(20 * np.log10(np.maximum(rms, 1e-12)) >= SILENCE_DB)
    if loud.size == 0:
        return 0, len(samples)
    margin = int(rate * KEEP_AROUND)
    return max(0, loud[0] * window - margin), min(len(samples), (loud[-1] + 1) * window + margin)


def trimmed(path: Path, out: Path) -> Path:
    """``path`` itself, or a WAV copy at ``out`` without its padding of silence (written once, atomically)."""
    if out.exists():
        return out
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    start, end = sound_span(data.mean(axis=1), rate)
    if len(data) - (end - start) < MIN_TRIM * rate:
        return path
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.stem + ".partial.wav")
    sf.write(str(partial), data[start:end], rate, subtype="PCM_16")
    partial.replace(out)
    return out


def origins(sound_list: Path) -> dict[str, str]:
    """Path under data/ -> "author, licence, original title (url)" from the package's sound list."""
    if not sound_list.exists():
        return {}
    found = {}
    with sound_list.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) < 9 or not row[0].endswith(".ogg") or not row[4] or row[4].startswith("DUPLICATE"):
                continue
            name, location, author, licence, original, url = row[0], row[2], row[4], row[5], row[7], row[8]
            author = "an unknown author" if author == "UNKNOWN" else author
            found[f"{location.removeprefix('data/')}/{name}"] = (
                f"reworked from \"{original}\" by {author}, {licence or 'licence not stated'}"
                + (f" ({url})" if url and url != "UNKNOWN" else ""))
    return found


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    root, versions = fetch_debs((PACKAGE,), cache, members=MEMBERS)
    data = root / DATA
    result = ManifestBuild(NAME)
    sound_origins = origins(data / SOUND_LIST)
    credit_lines, seen = [], {}
    for path in sorted(data.rglob("*.ogg")):
        relative = path.relative_to(data).as_posix()
        entry = lookup(relative)
        if not isinstance(entry, tuple):
            result.drop(entry or "not in the caption table", relative)
            continue
        problem, digest = audio_problem(path, min_seconds=0.1)
        if problem or digest in seen:
            result.drop(problem.split(" (")[0] if problem else "duplicate", f"{relative} (= {seen.get(digest)})")
            continue
        seen[digest] = relative
        concept, category, text = entry
        audio = trimmed(path, cache / "trimmed" / Path(relative).with_suffix(".wav"))
        if audio != path:
            result.notes["trimmed of silence"] += 1
        result.add({"concept": f"{NAME}/{concept}", "category": f"sounds/{category}", "audio": audio, "text": text},
                   (path,))
        if relative in sound_origins:
            credit_lines.append(f"- `{relative}` ({text}): {sound_origins[relative]}")
    result.credits = CREDITS.format(version=versions[PACKAGE]) + "\n\n" + "\n".join(credit_lines)
    result.drop_reserved(reserved)
    return result
