"""Captions made from file and icon names read as plain English."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_sources.captions import caption_from_name, is_plural, name_words, with_article
from data_sources.icons import icon_caption
from data_sources.scratch import picture_caption
from data_sources.wordnet import WordNet, concrete_head
from data_sources.zeroad import sound_caption


@pytest.mark.parametrize(
    "name, words",
    [
        ("fire-truck", ["fire", "truck"]),
        ("HorseGallop", ["horse", "gallop"]),
        ("Laugh-male2", ["laugh", "male"]),
        ("bored_dog_01", ["bored", "dog"]),
        ("Media/Sounds/Animal/SeaLion.mp3", ["sea", "lion"]),
        ("MIDIKeyboard", ["midi", "keyboard"]),
    ],
)
def test_name_words(name: str, words: list[str]) -> None:
    assert name_words(name) == words


@pytest.mark.parametrize(
    "phrase, caption",
    [
        ("fire truck", "a fire truck"),
        ("apple", "an apple"),
        ("umbrella", "an umbrella"),
        ("unicorn", "a unicorn"),
        ("hour glass", "an hour glass"),
        ("rain", "rain"),
        ("flowers", "flowers"),
        ("bus", "a bus"),
        ("octopus", "an octopus"),
        ("a dog", "a dog"),
        ("glasses", "glasses"),
        ("euro coin", "a euro coin"),
        ("utility pole", "a utility pole"),
        ("umbrella stand", "an umbrella stand"),
        ("urn", "an urn"),
    ],
)
def test_with_article(phrase: str, caption: str) -> None:
    assert with_article(phrase) == caption


def test_plurals_and_style_words() -> None:
    assert is_plural("trees") and is_plural("geese") and not is_plural("grass") and not is_plural("cactus")
    assert caption_from_name("fire-truck-outline", frozenset({"outline"})) == "a fire truck"


@pytest.mark.parametrize(
    "stem, caption",
    [
        ("dog1-b", "a dog"),
        ("boy4-walking-c", "a boy walking"),
        ("girl1-standing", "a girl standing"),
        ("fantasy4", None),
        ("cassy-dancing-3", "a woman dancing"),
        ("fire-hydrant", "a fire hydrant"),
        ("tennisball", "a tennis ball"),
        ("xy-grid", None),
        ("beach-malibu", "a beach"),
    ],
)
def test_scratch_picture_captions(stem: str, caption: str | None) -> None:
    assert picture_caption(stem) == caption


@pytest.mark.parametrize(
    "path, expected",
    [
        ("audio/actor/fauna/animal/elephant_order_1.ogg", ("elephant", "animals", "an elephant trumpeting")),
        (
            "audio/actor/human/movement/Footsteps/Footstep_Gravel_Walking.ogg",
            ("footsteps", "people", "footsteps walking on gravel"),
        ),
        ("audio/attack/impact/arrow_wood_12.ogg", ("arrow", "weapons", "an arrow hitting wood")),
        ("audio/resource/lumbering/lumber_tree_3.ogg", ("axe", "work", "chopping wood with an axe")),
        ("audio/attack/weapon/swordhit_13b.ogg", ("sword", "weapons", "swords clashing")),
        ("audio/music/Celtica.ogg", None),
        ("audio/voice/greek/civ/civ_male_attack_1.ogg", None),
        ("audio/attack/fire/sp_3.ogg", None),
        ("audio/resource/lumbering/lumber_treeexpire_1.ogg", None),
    ],
)
def test_zeroad_sound_captions_from_paths(path: str, expected: tuple | None) -> None:
    assert sound_caption(path) == expected


def _tiny_wordnet(folder: Path) -> WordNet:
    """A WordNet 3.0 noun database in the real file format, with a handful of senses."""
    senses = {
        "cow": ["05"],
        "truck": ["06"],
        "fire_truck": ["06"],
        "fire": ["19", "06"],
        "shield": ["06"],
        "sun": ["17"],
        "sync": ["04"],
        "layer": ["04"],
        "chess": ["04"],
        "rook": ["06", "05"],
        "guitar": ["06"],
        "electric": ["07"],
        "car": ["06"],
        "limousine": ["06"],
        "hungary": ["15"],
    }
    data, index = bytearray(b"  1 licence header line\n"), []
    for lemma, lex_files in sorted(senses.items()):
        offsets = []
        for lex_file in lex_files:
            offsets.append(f"{len(data):08d}")
            written = lemma.capitalize() if lemma == "hungary" else lemma  # a name is written with a capital
            data += f"{len(data):08d} {lex_file} n 01 {written} 0 000 | gloss\n".encode()
        index.append(f"{lemma} n {len(offsets)} 0 {len(offsets)} 0 {' '.join(offsets)}  ")
    (folder / "data.noun").write_bytes(bytes(data))
    (folder / "index.noun").write_text("  1 licence header line\n" + "\n".join(index) + "\n")
    (folder / "noun.exc").write_text("geese goose\n")
    (folder / "index.adj").write_text("  1 licence header line\nelectric a 1 0 1 0 00000001  \n")
    return WordNet(folder)


def test_wordnet_reader_and_icon_captions(tmp_path: Path) -> None:
    net = _tiny_wordnet(tmp_path)
    assert net.lexnames("cows") == ["noun.animal"] and net.base_form("fire trucks") == "fire_truck"
    assert net.is_concrete("truck") and not net.is_concrete("sync") and net.is_adjective("electric")
    assert concrete_head(["red", "fire", "truck"], net) == "fire truck"
    vocabulary = frozenset(
        {
            "cow",
            "truck",
            "fire",
            "shield",
            "sun",
            "sync",
            "chess",
            "rook",
            "guitar",
            "electric",
            "car",
            "limousine",
            "bold",
        }
    )
    assert icon_caption("cow-outline", net, vocabulary) == "a cow"
    assert icon_caption("fire-truck", net, vocabulary) == "a fire truck"
    assert icon_caption("chess-rook", net, vocabulary) == "a chess rook"  # "chess" is not a thing: a modifier
    assert icon_caption("guitar-electric", net, vocabulary) == "an electric guitar"  # noun-first names are turned round
    assert icon_caption("shield-sun", net, vocabulary) is None  # two things: an icon-set category prefix
    assert icon_caption("car-limousine", net, vocabulary) is None
    assert icon_caption("sync", net, vocabulary) is None  # not a thing
    assert icon_caption("arrow-left-bold", net, vocabulary) is None  # interface glyph
    assert icon_caption("cow-off", net, vocabulary) is None
    assert icon_caption("cow2", net, vocabulary) is None
    assert net.is_proper("hungary") and not net.is_proper("cow")
    assert icon_caption("hungary", net, vocabulary | {"hungary"}) is None  # a country's outline, not a thing
