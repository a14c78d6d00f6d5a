"""KTuberling stamps (Debian ``ktuberling-data``, GPL-2.0-or-later; moon theme CC-BY-3.0): captioned cartoon objects.

Each theme is one SVG(Z) drawing whose draggable objects are elements with an id; the theme's
``<name>.theme`` XML lists them as ``<object name="ID" sound="WORD"/>``, and ``WORD`` (the spoken
name the game plays, ``pizzeria_olive``) says what the object is. Each listed object is rendered
alone (``rsvg-convert --export-id``; an element that comes out empty is retried without its own
opacity and filter), cropped to its drawn pixels and kept with alpha, at most 256 px a side::

    {"source": "ktuberling", "concept": "christmas bauble", "category": "christmas",
     "image": "/abs/christmas/g_blue_ball_XL.png", "text": "a blue Christmas bauble"}

Captions come from a table keyed by the sound word, written after looking at the rendered
pictures; a colour word in the element id ("g_blue_ball_XL", "wingsPurple") is put in front of
the noun. Objects whose word names no picturable thing (butterfly wing ornaments, speech bubbles)
are dropped, and an object drawn twice under two ids is kept once.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from data_sources.captions import indefinite_article, name_words
from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import rsvg_convert

NAME = "ktuberling"
PACKAGE = "ktuberling-data"
PICS = Path("usr/share/ktuberling/pics")
CREDITS = """Source: Debian package `ktuberling-data` {version} (KTuberling, the KDE stamp drawing toy,
https://apps.kde.org/ktuberling/). Licence of the pictures: GPL-2.0-or-later, Copyright 2007-2017 Albert
Astals Cid, 2000 KDE Team, 2000-2002 Meni Livne, 2010 Rosetta Contributors and Canonical Ltd, 1999-2006
Eric Bischoff; except `pics/moon.svg` (the moon theme): CC-BY-3.0 (US), "This file is part of KDE"
(see the package's `usr/share/doc/ktuberling-data/copyright`). Each object was rendered alone from its
theme's SVG, cropped and resized (alpha kept); captions were written for this project from the
object names in the `.theme` files."""

# Sound word -> (concept, caption); None: the word names no thing a picture shows on its own.
# Written after looking at every rendered object.
CAPTIONS: dict[str, tuple[str, str] | None] = {
    # Potato guy (default_theme and potato-game): parts to put on a potato.
    "ball": ("ball", "a ball"), "bow": ("bow tie", "a bow tie"), "coat": ("jacket", "a jacket"),
    "ear": ("ear", "a cartoon ear"), "earring": ("earring", "an earring"), "eye": ("eye", "a cartoon eye"),
    "eyebrow": ("eyebrow", "an eyebrow"), "flower": ("flowers", "a bunch of flowers"), "hair": ("hair", "cartoon hair"),
    "hat": ("hat", "a hat"), "moustache": ("moustache", "a moustache"), "mouth": ("mouth", "a cartoon mouth"),
    "nose": ("nose", "a cartoon nose"), "shoe": ("shoe", "a shoe"), "shorts": ("shorts", "shorts"),
    "skirt": ("skirt", "a skirt"), "spectacles": ("glasses", "glasses"), "stick": ("walking stick", "a walking stick"),
    "sunglasses": ("sunglasses", "sunglasses"), "tie": ("tie", "a necktie"), "umbrella": ("umbrella", "an umbrella"),
    # Butterflies: wings, bodies and wing ornaments.
    "butterflies_wing": ("butterfly wings", "butterfly wings"),
    "butterflies_body": ("butterfly body", "a butterfly body"),
    "butterflies_spiral": ("spiral", "a spiral"), "butterflies_heart": None,  # wing-shaped, not hearts
    "butterflies_circle": ("circle", "a circle"), "butterflies_circles": None, "butterflies_eye": None,
    "butterflies_purple_shape": None,
    # Christmas.
    "xmas_angel": ("angel", "an angel"), "xmas_ball": ("christmas bauble", "a Christmas bauble"),
    "xmas_boot": ("boot", "a boot"), "xmas_candle": ("candle", "a candle"), "xmas_comet": ("comet", "a comet"),
    "xmas_garland": ("garland", "a Christmas garland"), "xmas_lights": ("christmas lights", "Christmas lights"),
    "xmas_mistletoe": ("mistletoe", "mistletoe"), "xmas_moon": ("moon", "a crescent moon"),
    "xmas_owl": ("owl", "an owl"), "xmas_present": ("present", "a present"), "xmas_rabbit": ("rabbit", "a rabbit"),
    "xmas_reindeer": ("reindeer", "a reindeer"), "xmas_shoe": ("shoe", "a shoe"),
    "xmas_snowflake": ("snowflake", "a snowflake"), "xmas_snowman": ("snowman", "a snowman"),
    "xmas_star": ("star", "a star"), "xmas_tree": ("christmas tree", "a Christmas tree"),
    "xmas_turtle": ("turtle", "a turtle"), "xmas_tux": ("penguin", "a penguin"),
    # Egypt.
    "egypt_arch": ("arch", "an arch"), "egypt_birds": ("birds", "birds"), "egypt_boy": ("boy", "a boy"),
    "egypt_bridge": ("bridge", "a bridge"), "egypt_camel": ("camel", "a camel"), "egypt_cart": ("cart", "a cart"),
    "egypt_column": ("column", "a column"), "egypt_donkey": ("donkey", "a donkey"), "egypt_girl": ("girl", "a girl"),
    "egypt_grass": ("grass", "grass"), "egypt_man": ("man", "a man"), "egypt_oasis": ("oasis", "an oasis"),
    "egypt_palmtree": ("palm tree", "a palm tree"), "egypt_pyramid": ("pyramid", "a pyramid"),
    "egypt_road": None, "egypt_sphynx": ("sphinx", "a sphinx"), "egypt_well": ("well", "a well"),
    "egypt_woman": ("woman", "a woman"),
    # Moon.
    "moon_alien": ("alien", "an alien"), "moon_astronaut": ("astronaut", "an astronaut"),
    "moon_earth": ("earth", "the Earth"), "moon_fallingstar": ("shooting star", "a shooting star"),
    "moon_hotel": ("moon base", "a moon base"), "moon_monster": ("monster", "a monster"),
    "moon_moonwalker": ("moon buggy", "a moon buggy"), "moon_planet": ("planet", "a planet"),
    "moon_radar": ("radar dish", "a radar dish"), "moon_rocket": ("rocket", "a rocket"),
    "moon_satellite": ("satellite", "a satellite"), "moon_sign": ("sign", "a signpost"),
    "moon_star": ("star", "a star"),
    "moon_ufo": ("ufo", "a UFO"),
    # Pizzeria: pizza toppings.
    "pizzeria_anchovy": ("anchovy", "an anchovy"), "pizzeria_bacon": ("bacon", "a slice of bacon"),
    "pizzeria_brocolli": ("broccoli", "broccoli"), "pizzeria_cheese": ("cheese", "cheese"),
    "pizzeria_cucumber": ("cucumber", "a cucumber slice"), "pizzeria_mushroom": ("mushroom", "a mushroom slice"),
    "pizzeria_olive": ("olive", "an olive slice"), "pizzeria_onion": ("onion", "an onion ring"),
    "pizzeria_oregano": ("oregano", "oregano leaves"), "pizzeria_pepper": ("pepper", "a pepper ring"),
    "pizzeria_pepperoni": ("pepperoni", "a pepperoni slice"), "pizzeria_pineapple": ("pineapple", "a pineapple ring"),
    "pizzeria_salami": ("salami", "a salami slice"), "pizzeria_tomato": ("tomato", "a tomato slice"),
    # Robin Hood with Tux the penguin.
    "robin-tux": ("penguin", "a penguin dressed as Robin Hood"),
    "frier-tux": ("penguin", "a penguin dressed as a friar"),
    "little-tux": ("penguin", "a penguin"), "maiden-tux": ("penguin", "a penguin dressed as a maiden"),
    "prince-tux": ("penguin", "a penguin dressed as a prince"),
    "sherif-tux": ("penguin", "a penguin dressed as a sheriff"),
    "guard-tux": ("penguin", "a penguin dressed as a guard"), "kid-tux": ("penguin", "a baby penguin"),
    "whitch-tux": ("penguin", "a penguin dressed as a witch"),
    "tux-vase": ("vase", "a vase"), "tux-teacup": ("teacup", "a teacup"), "tux-candles": ("candles", "candles"),
    "tux-goblet": ("goblet", "a goblet"), "tux-arrows": ("arrows", "arrows"), "tux-bow": ("bow", "a bow"),
    "tux-shoot": ("bow", "a bow drawn with an arrow"), "tux-arrow": ("arrow", "an arrow"),
    "tux-dowe": ("dove", "a white dove"), "tux-fly": ("dove", "a white dove flying"),
    "tux-bullseye": ("target", "an archery target"), "tux-wanted": ("wanted poster", "a wanted poster"),
    "tux-letter": ("letter", "a letter"), "tux-apple": ("apple", "an apple"), "tux-flask": ("flask", "a flask"),
    "tux-poison": ("poison", "a bottle of poison"), "tux-note": ("musical note", "a musical note"),
    "tux-notes": ("musical note", "musical notes"), "tux-fish": ("fish", "a fish"), "tux-plate": ("plate", "a plate"),
    "tux-guitar": ("guitar", "a guitar"), "tux-key": ("key", "a key"),
    "tux-love": None, "tux-idea": None, "tux-huh": None, "tux-what": None, "tux-wow": None, "tux-stare": None,
    "tux-zzz": None, "tux-angry": None, "tux-laugh": None, "tux-sick": None,
    # Robot workshop: robot parts.
    "robot_workshop_antenna": ("antenna", "a robot antenna"), "robot_workshop_arm": ("robot arm", "a robot arm"),
    "robot_workshop_ball": ("ball", "a ball"), "robot_workshop_base": ("robot base", "a robot base"),
    "robot_workshop_block": ("block", "a block"), "robot_workshop_body": ("robot body", "a robot body"),
    "robot_workshop_claw": ("claw", "a robot claw"), "robot_workshop_eye": ("robot eyes", "robot eyes"),
    "robot_workshop_foot": ("robot foot", "a robot foot"), "robot_workshop_hand": ("robot hand", "a robot hand"),
    "robot_workshop_head": ("robot head", "a robot head"), "robot_workshop_panel": ("control panel", "a control panel"),
    "robot_workshop_rocket": ("rocket", "a rocket"), "robot_workshop_rod": ("rod", "a metal rod"),
    "robot_workshop_wheel": ("wheel", "a wheel"),
    # Train valley.
    "tv_accident": ("car crash", "a crashed car"), "tv_ball": ("ball", "a ball"),
    "tv_barrier": ("barrier", "a barrier"),
    "tv_bicycle": ("bicycle", "a bicycle"), "tv_breakdown_lorry": ("tow truck", "a tow truck"),
    "tv_car": ("car", "a car"), "tv_caravan": ("caravan", "a caravan"), "tv_cyclist": ("cyclist", "a cyclist"),
    "tv_elephant": ("elephant", "an elephant"), "tv_excavator": ("excavator", "an excavator"),
    "tv_fence": ("fence", "a fence"), "tv_fire": ("fire", "a fire"), "tv_fireengine": ("fire engine", "a fire engine"),
    "tv_fireman": ("firefighter", "a firefighter"), "tv_fisherman": ("fisherman", "a fisherman"),
    "tv_giraffe": ("giraffe", "a giraffe"), "tv_guitar": ("guitar", "a guitar"),
    "tv_guitarist": ("guitarist", "a guitarist"),
    "tv_house": ("house", "a house"), "tv_ladder": ("ladder", "a ladder"), "tv_lion": ("lion", "a lion"),
    "tv_lorry": ("lorry", "a lorry"), "tv_lorry_tractor": ("lorry", "a lorry cab"), "tv_man": ("man", "a man"),
    "tv_mechanic": ("mechanic", "a mechanic"), "tv_monkey": ("monkey", "a monkey"), "tv_path": None,
    "tv_rock": ("rock", "a rock"), "tv_school": ("school", "a school"), "tv_shop": ("shop", "a shop"),
    "tv_smoke": ("smoke", "smoke"), "tv_tipper": ("tipper truck", "a tipper truck"),
    "tv_trailer": ("trailer", "a trailer"),
    "tv_train": ("train", "a train"), "tv_tree": ("tree", "a tree"), "tv_tunnel": ("tunnel", "a tunnel"),
    "tv_volley_net": ("volleyball net", "a volleyball net"), "tv_wagon": ("wagon", "a railway wagon"),
    "tv_woman": ("woman", "a woman"),
}
# (theme, element id) -> (concept, caption), where the id says more than the sound word.
OBJECTS: dict[tuple[str, str], tuple[str, str]] = {
    ("train_valley", "football"): ("ball", "a football"), ("train_valley", "rugby_ball"): ("ball", "a rugby ball"),
    ("train_valley", "volleyball"): ("ball", "a volleyball"),
    ("train_valley", "steam_train"): ("train", "a steam train"),
    ("robin-tux", "letter-love"): ("letter", "a love letter"), ("robin-tux", "guitar"): ("lute", "a lute"),
    ("robin-tux", "candles"): ("candelabra", "a candelabra"),
    ("robin-tux", "candles-glow"): ("candelabra", "a candelabra"),
    ("pizzeria", "olive1"): ("olive", "a green olive"), ("pizzeria", "olive2"): ("olive", "a black olive"),
    ("pizzeria", "olive4"): ("olive", "a black olive slice"), ("pizzeria", "oregano1"): ("herb", "a herb leaf"),
    ("pizzeria", "oregano2"): ("herb", "chopped herbs"), ("pizzeria", "bacon"): ("bacon", "a strip of bacon"),
    ("moon", "build1"): ("hotel", "a moon hotel"), ("egypt", "build10"): ("bridge", "a wooden bridge"),
    ("egypt", "build11"): ("arch", "an arch covered in vines"),
    ("egypt", "build12"): ("arch", "an arch covered in vines"),
    ("egypt", "live3"): ("cart", "a cart of fruit"), ("egypt", "live4"): ("cart", "a cart of fruit"),
    ("train_valley", "accident_car"): ("car", "an overturned car"),
    ("train_valley", "caravan1"): ("caravan", "a car towing a caravan"),
    ("train_valley", "caravan2"): ("caravan", "a car towing a caravan"),
    ("train_valley", "fireman1"): ("firefighter", "a firefighter with a hose"),
    ("train_valley", "fireman2"): ("firefighter", "a firefighter with a hose"),
    ("train_valley", "trailer"): ("bicycle trailer", "a bicycle trailer with a child in it"),
    ("train_valley", "mechanic"): ("mechanic", "a mechanic repairing a car"),
    ("default_theme", "jaket3"): ("shirt", "a white shirt"),
    ("default_theme", "jaket4"): ("shirt", "a shirt with braces"),
    ("default_theme", "ball2"): ("ball", "a football"), ("pizzeria", "cheese2"): ("cheese", "grated cheese"),
    ("potato-game", "eye07_1"): ("eye", "a closed eye with eyelashes"),
    ("potato-game", "eye07_2"): ("eye", "a closed eye with eyelashes"),
    ("robot_workshop", "rocket1"): ("rocket", "a rocket thruster"),
    ("robot_workshop", "rocket2"): ("rocket", "a rocket thruster"),
}
# (theme, element id) whose picture does not show what the word says (white crescents listed as eyes).
UNRECOGNISABLE = {("default_theme", "eyes_1"), ("default_theme", "eyes_2"), ("default_theme", "eyes_3"),
                  ("default_theme", "eyes_4"), ("default_theme", "ear3"), ("default_theme", "ear4"),
                  ("default_theme", "tie_1"), ("train_valley", "tunnel")}
MIN_SIDE = 64  # a crop whose long side stays under this (at the largest re-render) is too small to show anything
MAX_SCALE = 32  # the frame of a re-render is at most this many times ``side`` (32 x 256 px: 67 MP at worst)
COLOURS = ("red", "green", "blue", "yellow", "purple", "pink", "brown", "white", "silver", "golden")


def build(cache: Path, reserved: frozenset[str], *, source: Path | None = None, max_side: int = 256) -> ManifestBuild:
    if source is None:
        root, versions = fetch_debs((PACKAGE,), cache)
        version = versions[PACKAGE]
    else:
        root, version = source, "(from an extracted tree)"
    pics = root / PICS
    result = ManifestBuild(NAME, credits=CREDITS.format(version=version))
    images_dir = cache / f"images-{max_side}"
    seen: dict[str, str] = {}  # hash of the rendered pixels -> the object kept
    for theme_file in sorted(pics.glob("*.theme")):
        theme = theme_file.stem
        drawing, objects = read_theme(theme_file)
        svg = pics / drawing
        with tempfile.TemporaryDirectory() as tmp:
            if svg.suffix == ".svgz":  # rsvg-convert reads plain SVG; unzip once per theme
                plain = Path(tmp) / f"{theme}.svg"
                plain.write_bytes(gzip.decompress(svg.read_bytes()))
            else:
                plain = svg
            for element, word in objects:
                label = f"{theme}/{element}"
                entry = object_caption(theme, element, word)
                if (theme, element) in UNRECOGNISABLE:
                    result.drop("the picture does not show what its name says", f"{label} ({word})")
                    continue
                if entry is None:
                    result.drop("the name says nothing a picture shows" if word in CAPTIONS
                                else "not in the caption table", f"{label} ({word})")
                    continue
                dst = images_dir / theme / f"{element}.png"
                if not dst.exists():
                    error = render_element(plain, element, dst, max_side)
                    if error:
                        result.drop(error.split(":")[0], label)
                        continue
                with Image.open(dst) as image:
                    digest = hashlib.sha256(image.tobytes()).hexdigest()
                if digest in seen:
                    result.drop("duplicate picture", f"{label} (same as {seen[digest]})")
                    continue
                seen[digest] = label
                concept, caption = entry
                result.add({"concept": concept, "category": theme, "image": dst, "text": caption}, (svg,))
    result.drop_reserved(reserved)
    return result


def read_theme(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The theme's drawing file and its objects as (element id, sound word), first listing of an id kept."""
    playground = ET.parse(path).getroot()
    objects = dict((o.get("name", ""), o.get("sound", "")) for o in playground.iter("object") if o.get("name"))
    return playground.get("gameboard", ""), list(objects.items())


def object_caption(theme: str, element: str, word: str) -> tuple[str, str] | None:
    """(concept, caption) of one object: "g_blue_ball_XL" with word "xmas_ball" -> a blue Christmas bauble."""
    if (theme, element) in OBJECTS:
        return OBJECTS[(theme, element)]
    entry = CAPTIONS.get(word)
    if entry is None:
        return None
    concept, caption = entry
    colour = next((word for word in name_words(element) if word in COLOURS and word not in caption.split()), None)
    if colour and caption.startswith(("a ", "an ")):
        noun = caption.split(" ", 1)[1]
        caption = f"{indefinite_article(colour)} {colour} {noun}"
    elif colour and caption.split()[0] not in ("the",):
        caption = f"{colour} {caption}"
    return concept, caption


def render_element(svg: Path, element: str, dst: Path, side: int) -> str | None:
    """Render one element of ``svg`` alone, cropped to its drawn pixels, fitting ``side`` (alpha kept).

    ``--export-id`` frames the element's geometric box, which can hold invisible parts (a pizza
    topping's box spans the whole sheet), so the render is cropped to its opaque pixels and redone
    at a larger scale when the crop came out small (up to ``MAX_SCALE``; smaller crops stay small).
    """
    rsvg = rsvg_convert()
    if rsvg is None:
        return "SVG but rsvg-convert is not installed (apt-get install librsvg2-bin)"
    scale = 4 * side
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(3):
            out = Path(tmp) / "element.png"
            command = [rsvg, "--export-id", element, "-a", "-w", str(scale), "-h", str(scale), "-o", str(out), str(svg)]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0 or not out.exists():
                return f"rsvg-convert failed: {run.stderr.strip()[:200]}"
            with Image.open(out) as image:
                rgba = image.convert("RGBA")
            box = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
            if box is None and attempt == 0 and (plain := without_own_layer(svg, element, Path(tmp))):
                svg = plain  # rsvg-convert 2.54 exports an element with its own opacity or filter as empty
                continue
            if box is None:
                return "fully transparent image"
            longest = max(box[2] - box[0], box[3] - box[1])
            if longest >= side or scale >= MAX_SCALE * side:
                break
            scale = min(MAX_SCALE * side, int(scale * side / longest * 1.1) + 1)
    if longest < MIN_SIDE:
        return f"too small: {longest} px at the largest render"
    rgba = rgba.crop(box)
    rgba.thumbnail((side, side), Image.Resampling.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    partial = dst.with_suffix(".partial.png")
    rgba.save(partial)
    partial.replace(dst)
    return None


def without_own_layer(svg: Path, element: str, folder: Path) -> Path | None:
    """A copy of ``svg`` whose ``element`` has no opacity or filter of its own; None when it had neither.

    ``rsvg-convert --export-id`` renders such an element fully transparent; the game draws it with
    its group opacity (0.75-0.9) or drop shadow, which the training picture can do without.
    """
    text = svg.read_text(encoding="utf-8")
    at = text.find(f'id="{element}"')
    start, end = text.rfind("<", 0, at), text.find(">", at)
    if at < 0 or start < 0 or end < 0:
        return None
    tag = text[start:end]
    plain_tag = re.sub(r"(?<![-\w])(opacity:[0-9.eE-]+|filter:url\([^)]*\));?", "", tag)
    plain_tag = re.sub(r'\s(opacity|filter)="[^"]*"', "", plain_tag)
    if plain_tag == tag:
        return None
    copy = folder / f"without-layer-{svg.name}"
    copy.write_text(text[:start] + plain_tag + text[end:], encoding="utf-8")
    return copy
