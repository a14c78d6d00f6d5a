"""Pure parts of the builders: the OpenTTD catalogue, MIDI writing, pairing, the manifest line, Widelands' tables."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from data_sources.fluidsynth import GM_INSTRUMENTS, _varlen, midi_file, presets
from data_sources.iconify import iconify_svg, strip_suffix
from data_sources.ktuberling import object_caption, read_theme, render_element, without_own_layer
from data_sources.manifest import ManifestBuild, manifest_line
from data_sources.media import make_thumbnail
from data_sources.opensfx import CAPTIONS, parse_cat
from data_sources.pairing import Item, pair_by_concept
from data_sources.widelands import CAPTIONS as WIDELANDS_CAPTIONS
from data_sources.widelands import DROPS as WIDELANDS_DROPS
from data_sources.widelands import lookup, origins, sound_group, sound_span, trimmed
from PIL import Image

from xmodal.training.manifest import read_manifest


def _wav(samples: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _cat(entries: list[tuple[str, bytes]]) -> bytes:
    table, blobs = bytearray(), bytearray()
    start = 8 * len(entries)
    for name, wav in entries:
        encoded = name.encode("latin-1") + b"\0"
        table += struct.pack("<II", (start + len(blobs)) | 1 << 31, len(wav))
        blobs += bytes([len(encoded)]) + encoded + wav + b"\0\0"  # padding between entries, as in opensfx.cat
    return bytes(table + blobs)


def test_opensfx_catalogue_is_parsed_into_titled_wavs() -> None:
    cow, horse = _wav(b"\x01\x00" * 50), _wav(b"\x02\x00" * 80)
    entries = parse_cat(_cat([('"Cow". Original "moo.wav" by "someone". License: CC0.', cow),
                              ('"Horse". By Janis Lukss. License: CC-BY-3.0.', horse)]))
    assert [(e.index, e.title, e.wav) for e in entries] == [(0, "Cow", cow), (1, "Horse", horse)]
    assert entries[0].name.endswith("License: CC0.")
    assert CAPTIONS["Cow"] == ("cow", "animals", "a cow mooing")


def test_a_broken_catalogue_entry_is_reported() -> None:
    data = bytearray(_cat([('"Cow".', _wav(b"\x00\x00" * 10))]))
    data[8 + 1 + len('"Cow".') + 1] = ord("X")  # corrupt the RIFF magic
    with pytest.raises(ValueError, match="entry 0"):
        parse_cat(bytes(data))


def test_midi_file_selects_bank_and_program_and_plays_every_note() -> None:
    assert (
        _varlen(0) == b"\x00"
        and _varlen(127) == b"\x7f"
        and _varlen(128) == b"\x81\x00"
        and _varlen(480) == b"\x83\x60"
    )
    midi = midi_file(2, 123, [(60, 0.0, 1.0), (64, 0.5, 1.0)])
    assert midi[:4] == b"MThd" and midi[14:18] == b"MTrk"
    assert struct.unpack(">I", midi[18:22])[0] == len(midi) - 22
    assert b"\xb0\x00\x02" in midi and b"\xc0\x7b" in midi  # bank 2, program 123 on channel 1
    assert midi.count(b"\x90\x3c\x64") == 1 and midi.count(b"\x90\x40\x64") == 1
    drums = midi_file(128, 0, [(36, 0.0, 0.2)])
    assert b"\x99\x24\x64" in drums and b"\xc0" not in drums[22:]  # drum channel 10, no program change


def test_every_general_midi_program_has_an_entry() -> None:
    assert len(GM_INSTRUMENTS) == 128
    assert (
        GM_INSTRUMENTS[56] == "a trumpet"
        and GM_INSTRUMENTS[19] == "a church organ"
        and GM_INSTRUMENTS[40] == "a violin"
    )
    assert {(bank, program) for bank, program, _, _ in presets()} >= {(0, 0), (1, 123), (5, 125), (128, 0)}


def test_sounds_pair_with_pictures_of_their_concept(tmp_path: Path) -> None:
    dog1, dog2, cat = (
        Item("dog", "animals", "a dog", tmp_path / f"{n}.png", tmp_path / f"{n}.gif") for n in ("d1", "d2", "c")
    )
    cat = Item("cat", "animals", "a cat", tmp_path / "c.png", tmp_path / "c.gif")
    bark = Item("dog", "sounds/animal", "a dog barking", tmp_path / "bark.wav", tmp_path / "bark.wav")
    owl = Item("owl", "sounds/animal", "an owl hooting", tmp_path / "owl.wav", tmp_path / "owl.wav")
    records = [record for record, _ in pair_by_concept("s", [dog1, dog2, cat], [bark, owl])]
    assert records[0]["audio"] == records[1]["audio"] == bark.path  # one bark serves both dog pictures
    assert records[0]["text"] == "a dog barking" and records[0]["texts"] == ["a dog"]
    assert "audio" not in records[2] and records[2]["text"] == "a cat"
    assert records[3] == {"concept": "s/owl", "category": "sounds/animal", "audio": owl.path, "text": "an owl hooting"}


def test_manifest_lines_have_a_fixed_shape_and_read_back(tmp_path: Path) -> None:
    line = manifest_line(
        "mdi",
        concept="mdi/fire-truck",
        category="icons/transportation",
        text="a fire truck",
        image=tmp_path / "fire-truck.png",
        texts=["a fire engine", "a fire truck", "A Fire Truck", ""],
    )
    assert list(line) == ["source", "concept", "category", "image", "text", "texts"]
    assert line["texts"] == ["a fire engine"]
    with pytest.raises(ValueError, match="image or a sound"):
        manifest_line("mdi", concept="x", category="y", text="no media")
    build = ManifestBuild("mdi")
    build.add(
        {
            "concept": "mdi/fire-truck",
            "category": "icons/transportation",
            "image": tmp_path / "fire-truck.png",
            "text": "a fire truck",
            "texts": ["a fire engine"],
        }
    )
    build.write(tmp_path / "manifest.jsonl")
    assert json.loads((tmp_path / "manifest.jsonl").read_text())["source"] == "mdi"
    (record,) = read_manifest(tmp_path / "manifest.jsonl")
    assert (record.source, record.image, record.texts) == ("mdi", tmp_path / "fire-truck.png", ("a fire engine",))


def test_thumbnails_refuse_bombs_and_empty_pictures_and_keep_or_flatten_alpha(tmp_path: Path) -> None:
    half = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    half.paste((200, 0, 0, 255), (0, 0, 20, 20))
    half.save(tmp_path / "half.png")
    assert make_thumbnail(tmp_path / "half.png", tmp_path / "kept.png", 10, on_white=False) is None
    kept = Image.open(tmp_path / "kept.png")
    assert (kept.mode, kept.size, kept.getpixel((9, 2))[3]) == ("RGBA", (10, 5), 0)
    assert make_thumbnail(tmp_path / "half.png", tmp_path / "flat.png", 10, on_white=True) is None
    flat = Image.open(tmp_path / "flat.png")
    assert (flat.mode, flat.getpixel((9, 2)), flat.getpixel((1, 2))) == ("RGB", (255, 255, 255), (200, 0, 0))
    assert "decompression-bomb" in make_thumbnail(
        tmp_path / "half.png", tmp_path / "no.png", 10, on_white=False, max_pixels=799
    )
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(tmp_path / "empty.png")
    assert make_thumbnail(tmp_path / "empty.png", tmp_path / "no.png", 10, on_white=False) == "fully transparent image"
    assert not (tmp_path / "no.png").exists()


def test_iconify_names_lose_their_style_suffix_and_variant_number() -> None:
    suffixes = ["bold-duotone", "bold", "linear"]  # longest first, as the builder orders a set's suffixes
    assert strip_suffix("cow-bold-duotone", suffixes) == "cow"
    assert strip_suffix("cow-linear", suffixes) == "cow"
    assert strip_suffix("bus-02", []) == "bus"
    assert strip_suffix("fire-truck", suffixes) == "fire-truck"


def test_iconify_icons_become_standalone_svgs_in_black() -> None:
    svg = iconify_svg('<path fill="currentColor" d="M0 0h24v24H0z"/>', 24, 24)
    assert svg.startswith("<svg ") and 'viewBox="0 0 24 24"' in svg
    assert "currentColor" not in svg and 'fill="#000"' in svg
    assert iconify_svg('<path fill="#66e1ff" d="M0 0h1v1z"/>', 14, 14).count("#66e1ff") == 1  # colours kept


def test_widelands_variants_share_a_caption_and_single_files_override_their_group() -> None:
    assert sound_group("sound/animals/bird2_03.ogg") == "sound/animals/bird2"
    assert sound_group("sound/animals/frog.ogg") == "sound/animals/frog"
    assert lookup("sound/animals/wolf_02.ogg") == ("wolf", "animals", "a wolf howling")
    assert lookup("sound/animals/bird1_00.ogg") == lookup("sound/animals/bird1_02.ogg")
    # inn_00 and inn_01 come from different recordings: the file's own entry, not the group's
    assert lookup("sound/barbarians/taverns/inn_01.ogg")[2] == "food sizzling in a frying pan"
    assert lookup("sound/barbarians/taverns/inn_00.ogg")[2] == "dishes and cutlery clattering"
    assert lookup("sound/message_01.ogg") == "interface sound or fanfare"
    assert lookup("sound/animals/unicorn_00.ogg") is None
    assert not set(WIDELANDS_CAPTIONS) & set(WIDELANDS_DROPS)
    assert all(text == text.lower() and not text.endswith(".") for _, _, text in WIDELANDS_CAPTIONS.values())


def test_widelands_silence_padding_is_trimmed_into_a_wav_copy(tmp_path: Path) -> None:
    rate = 8000
    howl = 0.5 * np.sin(np.linspace(0, 2000, rate)).astype("float32")  # 1 s of sound
    padded = np.concatenate([np.zeros(rate // 2, "float32"), howl, np.zeros(rate * 3, "float32")])
    start, end = sound_span(padded, rate)
    assert start == rate // 2 - int(rate * 0.15) and end == rate // 2 + rate + int(rate * 0.15)
    sf.write(tmp_path / "wolf.wav", padded, rate)
    out = trimmed(tmp_path / "wolf.wav", tmp_path / "trimmed" / "wolf.wav")
    assert out == tmp_path / "trimmed" / "wolf.wav" and abs(sf.info(out).duration - 1.3) < 0.01
    edge = np.zeros(rate // 5, "float32")
    sf.write(tmp_path / "short.wav", np.concatenate([edge, howl, edge]), rate)  # 0.1 s to remove: kept as it is
    assert trimmed(tmp_path / "short.wav", tmp_path / "trimmed" / "short.wav") == tmp_path / "short.wav"
    assert sound_span(np.zeros(rate, "float32"), rate) == (0, rate)  # all silent: left to audio_problem


def test_widelands_sound_list_gives_each_files_origin(tmp_path: Path) -> None:
    header = "File Name,Format,Location,Usage,Author,License,reworked,Original File Name,Source,Orig. Format,BZR\n"
    (tmp_path / "list.csv").write_text(
        "Widelands Sound Documentation,,,,,,,,,,\n" + header
        + "frog.ogg,11025,data/sound/animals,,Someone,CC-0,yes,frog.wav,http://example.org/frog,44100,1\n"
        + "wolf_00.ogg,11025,data/sound/animals,,UNKNOWN,,,Howl-5.wav,UNKNOWN,11025,1\n"
        + "meal_00.ogg,,sound/empire/taverns,empire.biginn,DUPLICATE to inn_01.ogg,,,,,,1\n", encoding="utf-8")
    found = origins(tmp_path / "list.csv")
    assert found == {
        "sound/animals/frog.ogg": 'reworked from "frog.wav" by Someone, CC-0 (http://example.org/frog)',
        "sound/animals/wolf_00.ogg": 'reworked from "Howl-5.wav" by an unknown author, licence not stated',
    }
    assert origins(tmp_path / "missing.csv") == {}


def test_ktuberling_objects_are_captioned_from_their_word_with_the_colour_in_their_id(tmp_path: Path) -> None:
    theme = tmp_path / "christmas.theme"
    theme.write_text('<playground gameboard="christmas.svgz"><object name="g_blue_ball_XL" sound="xmas_ball"/>'
                     '<object name="say-zzz" sound="tux-zzz"/><object name="g_blue_ball_XL" sound="xmas_ball"/>'
                     "</playground>", encoding="utf-8")
    assert read_theme(theme) == ("christmas.svgz", [("g_blue_ball_XL", "xmas_ball"), ("say-zzz", "tux-zzz")])
    assert object_caption("christmas", "g_blue_ball_XL", "xmas_ball") == ("christmas bauble", "a blue Christmas bauble")
    assert object_caption("butterflies", "wingsPurple", "butterflies_wing")[1] == "purple butterfly wings"
    assert object_caption("robin-tux", "white-dowe-right", "tux-dowe")[1] == "a white dove"  # no "white white"
    assert object_caption("train_valley", "rugby_ball", "tv_ball") == ("ball", "a rugby ball")  # the id says more
    assert object_caption("robin-tux", "say-zzz", "tux-zzz") is None  # a speech bubble, dropped
    assert object_caption("moon", "x", "moon_unknown") is None


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_ktuberling_element_is_rendered_alone_and_cropped_to_its_pixels(tmp_path: Path) -> None:
    svg = tmp_path / "sheet.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="500">'
                   '<g id="dot"><rect width="1000" height="500" opacity="0"/>'
                   '<circle cx="900" cy="50" r="20" fill="red"/></g>'
                   '<rect id="other" x="10" y="10" width="400" height="400" fill="blue"/></svg>', encoding="utf-8")
    assert render_element(svg, "dot", tmp_path / "dot.png", 64) is None
    with Image.open(tmp_path / "dot.png") as image:
        assert image.mode == "RGBA" and max(image.size) == 64 and abs(image.width - image.height) <= 2
        red, green, blue, alpha = image.getpixel((image.width // 2, image.height // 2))
        assert alpha == 255 and red > 200 and blue < 50  # the circle, not the blue square


def test_ktuberling_element_loses_only_its_own_opacity_and_filter_for_the_retry(tmp_path: Path) -> None:
    svg = tmp_path / "sheet.svg"
    svg.write_text('<svg><g id="fire" style="opacity:0.8;fill:red;filter:url(#f1)"><path style="opacity:0.5"/></g>'
                   '<g id="plain" style="fill:red"/></svg>', encoding="utf-8")
    copy = without_own_layer(svg, "fire", tmp_path)
    assert copy is not None  # the child's opacity stays
    assert copy.read_text(encoding="utf-8").startswith('<svg><g id="fire" style="fill:red;"><path style="opacity:0.5"')
    assert without_own_layer(svg, "plain", tmp_path) is None and without_own_layer(svg, "absent", tmp_path) is None
