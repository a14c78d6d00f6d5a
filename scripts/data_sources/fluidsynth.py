"""General MIDI instruments and GS sound effects rendered to WAV with ``fluidsynth``.

Sound fonts: Debian ``fluid-soundfont-gm`` (FluidR3_GM.sf2: the 128 General MIDI instruments, bank 0)
and ``fluid-soundfont-gs`` (FluidR3_GS.sf2: the Roland GS variation banks 1-8 with Rain, Thunder, Dog,
Horse Gallop, Siren, ...), both MIT-licensed, by Frank Wen. Each preset is played from a small MIDI
file that this module writes (an arpeggio and chord, or one held note) and rendered with
``fluidsynth -ni -F out.wav`` (Debian ``fluidsynth``). Captions come from a table that says what
each preset sounds like ("Contrabass" -> "a double bass"); synth leads, pads and FX presets whose
names do not say what is heard are left out. Each rendering is one record; the renderings of a
preset share its concept.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem

NAME = "fluidsynth"
PACKAGES = ("fluid-soundfont-gm", "fluid-soundfont-gs")
SF2_DIR = Path("usr/share/sounds/sf2")
RATE = 44100
CREDITS = """Source: Debian packages `fluid-soundfont-gm` and `fluid-soundfont-gs` {version} (FluidR3 sound fonts,
Copyright 2000-2002, 2008 Frank Wen, with samples from Suren M. Seron, Scott Hanan, Steve Aupperle,
Chris Gillman, Alex Taubr, Chris Prola, Andrew Klenk, Winfried Hubbe, Dylan, Tim, Gort, Uros Katic
and Ethan Winer). Licence: MIT. The sounds were rendered for this project with fluidsynth from MIDI
phrases written by the builder; captions were written from the preset names."""

# General MIDI program -> caption (None: the preset name does not say what is heard).
GM_INSTRUMENTS: tuple[str | None, ...] = (
    "a grand piano", "a bright acoustic piano", "an electric grand piano", "a honky-tonk piano", "an electric piano",
    "an electric piano", "a harpsichord", "a clavinet", "a celesta", "a glockenspiel", "a music box", "a vibraphone",
    "a marimba", "a xylophone", "tubular bells", "a dulcimer", "an electric organ", "an electric organ", "a rock organ",
    "a church organ", "a reed organ", "an accordion", "a harmonica", "a tango accordion", "a classical guitar",
    "a steel-string acoustic guitar", "a jazz electric guitar", "a clean electric guitar", "a muted electric guitar",
    "an overdriven electric guitar", "a distorted electric guitar", "guitar harmonics", "an acoustic bass",
    "an electric bass guitar", "an electric bass played with a pick", "a fretless bass", "a slap bass", "a slap bass",
    "a synth bass", "a synth bass", "a violin", "a viola", "a cello", "a double bass", "tremolo strings",
    "pizzicato strings", "a harp", "timpani", "a string orchestra", "a slow string orchestra", "synth strings",
    "synth strings", "a choir singing aah", "voices singing ooh", "a synth voice", "an orchestra hit", "a trumpet",
    "a trombone", "a tuba", "a muted trumpet", "a French horn", "a brass section", "synth brass", "synth brass",
    "a soprano saxophone", "an alto saxophone", "a tenor saxophone", "a baritone saxophone", "an oboe",
    "an English horn", "a bassoon", "a clarinet", "a piccolo", "a flute", "a recorder", "a pan flute",
    "blowing across a bottle", "a shakuhachi flute", "someone whistling", "an ocarina",
    "a square wave synth lead", "a sawtooth synth lead", "a calliope", None, None, None, None, None,
    "a synth pad", "a warm synth pad", None, None, None, None, None, None,
    None, None, None, None, None, None, None, None,
    "a sitar", "a banjo", "a shamisen", "a koto", "a kalimba", "bagpipes", "a fiddle", "a shehnai",
    "a tinkling bell", "agogo bells", "steel drums", "a woodblock", "a taiko drum", "a tom drum", "a synth drum",
    "a reversed cymbal",
    None, "someone breathing", "waves on a seashore", "a bird tweeting", "a telephone ringing", "a helicopter",
    "a crowd applauding", "a gunshot",
)
# (bank, program) -> caption for the GS sound-effect variations (FluidR3_GS.sf2).
GS_EFFECTS: dict[tuple[int, int], str | None] = {
    (1, 120): None, (1, 121): None, (1, 122): "rain falling", (1, 123): "a dog barking",
    (1, 124): "an old telephone ringing", (1, 125): "a car engine running", (1, 126): "people laughing",
    (1, 127): "a machine gun firing", (2, 120): None, (2, 122): "thunder rumbling", (2, 123): "a horse galloping",
    (2, 124): "a door creaking", (2, 125): "a car braking", (2, 126): "a person screaming", (2, 127): "a laser gun",
    (3, 122): "wind blowing", (3, 123): "a bird chirping", (3, 124): "a door slamming", (3, 125): "a car driving past",
    (3, 126): "a punch", (3, 127): "an explosion", (4, 122): "a stream flowing", (4, 124): None,
    (4, 125): "a car crash", (4, 126): "a heart beating", (5, 122): "bubbles bubbling", (5, 124): "wind chimes",
    (5, 125): "a siren wailing", (5, 126): "footsteps", (6, 125): "a train going by", (7, 125): "a jet plane flying",
    (8, 125): "a spaceship humming",
}
EFFECT_PROGRAMS = range(120, 128)  # GM's own sound effects: one held note, no phrase
# Lowest note of the phrase by program (MIDI note numbers); 60 is middle C.
LOW_PROGRAMS = {**{p: 36 for p in range(32, 40)}, 42: 48, 43: 36, 57: 48, 58: 36, 67: 48, 70: 48, 47: 48}
HIGH_PROGRAMS = {72: 76, 9: 72, 10: 72, 112: 72, 8: 72, 79: 72}


def build(cache: Path, reserved: frozenset[str]) -> ManifestBuild:
    if shutil.which("fluidsynth") is None:
        raise FileNotFoundError("fluidsynth is not installed (apt-get install fluidsynth; see scripts/setup_data_tools.sh)")
    root, versions = fetch_debs(PACKAGES, cache)
    fonts = [root / SF2_DIR / "FluidR3_GM.sf2", root / SF2_DIR / "FluidR3_GS.sf2"]
    out_dir = cache / "sounds"
    result = ManifestBuild(NAME, credits=CREDITS.format(version=versions[PACKAGES[0]]))
    seen: dict[str, str] = {}
    for preset in presets():
        bank, program, caption, kind = preset
        if caption is None:
            result.drop("preset name does not say what is heard (synth lead/pad/FX, fret noise)", f"{bank}:{program}")
            continue
        for rendering, notes in renderings(program, kind):
            wav = out_dir / f"{bank:03d}-{program:03d}-{rendering}.wav"
            if not wav.exists():
                render(fonts, midi_file(bank, program, notes), wav)
            problem, digest = audio_problem(wav, min_seconds=0.3)
            if problem or digest in seen:
                result.drop(problem.split(" (")[0] if problem else "duplicate rendering", wav.stem)
                continue
            seen[digest] = wav.stem
            texts = [f"{caption} playing a few notes"] if rendering == "phrase" else []
            result.add({"concept": f"fluidsynth/{bank}-{program}", "category": f"sounds/{kind}", "audio": wav,
                        "text": caption, "texts": texts}, (wav, *fonts))
    result.drop_reserved(reserved)
    return result


def presets() -> list[tuple[int, int, str | None, str]]:
    """(bank, program, caption, kind) for every preset: kind is "instruments", "effects" or "drums"."""
    rows = [(0, p, caption, "effects" if p in EFFECT_PROGRAMS else "instruments") for p, caption in enumerate(GM_INSTRUMENTS)]
    rows += [(bank, program, caption, "effects") for (bank, program), caption in sorted(GS_EFFECTS.items())]
    rows.append((128, 0, "a drum kit playing a beat", "drums"))
    return rows


def renderings(program: int, kind: str) -> list[tuple[str, list[tuple[int, float, float]]]]:
    """Named note lists (note, start s, length s): two views of each preset."""
    if kind == "effects":
        return [("long", [(60, 0.0, 3.0)]), ("short", [(60, 0.0, 1.2), (60, 1.4, 1.2)])]
    if kind == "drums":  # kick 36, snare 38, closed hi-hat 42, crash 49 on the GM drum channel
        beat = [(36, 0.0), (42, 0.0), (42, 0.25), (38, 0.5), (42, 0.5), (42, 0.75), (36, 1.0), (36, 1.25),
                (42, 1.25), (38, 1.5), (42, 1.5), (49, 2.0), (36, 2.0)]
        return [("phrase", [(note, start, 0.2) for note, start in beat])]
    low = LOW_PROGRAMS.get(program, HIGH_PROGRAMS.get(program, 60))
    arpeggio = [(low + step, 0.35 * i, 0.33) for i, step in enumerate((0, 4, 7, 12, 7, 4))]
    chord = [(low + step, 2.1, 1.2) for step in (0, 4, 7)]
    return [("phrase", arpeggio + chord), ("note", [(low + 7, 0.0, 2.0)])]


def midi_file(bank: int, program: int, notes: list[tuple[int, float, float]], tempo_us: int = 500_000) -> bytes:
    """A format-0 standard MIDI file: bank select, program change, then ``notes`` at 120 bpm.

    Bank 128 means the drum channel (10). A second of silence at the end lets the release ring out.
    """
    ticks_per_beat = 480
    channel = 9 if bank == 128 else 0
    per_second = ticks_per_beat * 1_000_000 / tempo_us
    events: list[tuple[int, bytes]] = []
    for note, start, length in notes:
        events.append((round(start * per_second), bytes([0x90 | channel, note, 100])))
        events.append((round((start + length) * per_second), bytes([0x80 | channel, note, 0])))
    end = max(tick for tick, _ in events) + round(per_second)
    events.sort(key=lambda event: (event[0], event[1][0] & 0xF0 == 0x90))  # note-offs before note-ons
    track = bytearray(b"\x00\xff\x51\x03" + tempo_us.to_bytes(3, "big"))
    if channel == 0:
        track += b"\x00" + bytes([0xB0, 0, bank]) + b"\x00" + bytes([0xB0, 32, 0]) + b"\x00" + bytes([0xC0, program])
    now = 0
    for tick, message in events:
        track += _varlen(tick - now) + message
        now = tick
    track += _varlen(end - now) + b"\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def render(fonts: list[Path], midi: bytes, wav: Path) -> None:
    wav.parent.mkdir(parents=True, exist_ok=True)
    mid = wav.with_suffix(".mid")
    mid.write_bytes(midi)
    partial = wav.with_suffix(".partial.wav")
    # Later fonts take precedence: the GS font adds banks 1-8 over the GM font's bank 0.
    command = ["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(RATE), "-F", str(partial), *map(str, fonts), str(mid)]
    subprocess.run(command, check=True, capture_output=True)
    partial.replace(wav)
    mid.unlink()
