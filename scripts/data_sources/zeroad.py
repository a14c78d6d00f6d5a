"""0 A.D. (Debian ``0ad-data``, art and sounds CC-BY-SA-3.0 by Wildfire Games): effect sounds and portraits.

The package is a 1.4 GB download; only ``mods/public/public.zip`` is extracted from it, and only
the members used here are read out of that archive into the cache. Sounds live under ``audio/``
with their subject in the path (``audio/actor/fauna/animal/elephant_order_1.ogg``); music, unit
voices and interface sounds are left out, and so are sounds whose file name does not say what is
heard (``attack/fire/sp_3``). Captions come from a table of path patterns, in plain English
("an elephant trumpeting", "chopping wood with an axe"). Runs of near-identical hits (21 arrows
striking wood, 62 men's death cries) are capped at ``MAX_PER_CAPTION`` variants each.

Animal and plant portraits (``art/textures/ui/session/portraits/gaia``, ``.png.cached.dds``) are
captioned from a table written after looking at them; an animal's sounds pair with its portrait.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem, make_thumbnail
from data_sources.pairing import Item, pair_by_concept

NAME = "0ad"
PACKAGE = "0ad-data"
ARCHIVE = "usr/share/games/0ad/mods/public/public.zip"
MEMBERS = (f"./{ARCHIVE}", "./usr/share/doc/0ad-data/copyright")
PORTRAITS = "art/textures/ui/session/portraits/gaia/"
MAX_PER_CAPTION = 10
CREDITS = """Source: Debian package `0ad-data` {version} (0 A.D., https://play0ad.com, by Wildfire Games).
Licence of the art and sounds: CC-BY-SA-3.0, Copyright Wildfire Games and the 0 A.D. contributors (see
the package's `usr/share/doc/0ad-data/copyright`). Sounds are used unchanged; portraits were converted
from DDS to PNG; captions were written for this project from the file paths and the pictures."""

# (pattern on the path under audio/, with trailing numbers removed) -> (concept, category, caption);
# the first match wins; None drops the sound. Patterns are matched with re.fullmatch.
SOUND_RULES: list[tuple[str, tuple[str, str, str] | None]] = [
    (r"voice/global/civ_dog_bark", ("dog", "animals", "a dog barking")),
    (r"(music|voice|interface)/.*", None),
    (r"actor/fauna/animal/camel", ("camel", "animals", "a camel grunting")),
    (r"actor/fauna/animal/cattle", ("cow", "animals", "cattle mooing")),
    (r"actor/fauna/animal/chicken", ("chicken", "animals", "a chicken clucking")),
    (r"actor/fauna/animal/elephant_death", ("elephant", "animals", "an elephant bellowing in pain")),
    (r"actor/fauna/animal/elephant_.*", ("elephant", "animals", "an elephant trumpeting")),
    (r"actor/fauna/animal/flamingo", ("flamingo", "animals", "a flamingo calling")),
    (r"actor/fauna/animal/horse_death", ("horse", "animals", "a horse squealing in pain")),
    (r"actor/fauna/animal/horse.*", ("horse", "animals", "a horse neighing")),
    (r"actor/fauna/animal/lion_attack", ("lion", "animals", "a lion roaring")),
    (r"actor/fauna/animal/lion_select", ("lion", "animals", "a lion growling")),
    (r"actor/fauna/animal/peacock_call", ("peacock", "animals", "a peacock calling")),
    (r"actor/fauna/animal/pig_(death|squeal_move)", ("pig", "animals", "a pig squealing")),
    (r"actor/fauna/animal/pig", ("pig", "animals", "a pig grunting")),
    (r"actor/fauna/animal/sheep", ("sheep", "animals", "sheep bleating")),
    (r"actor/fauna/death/death_camel", ("camel", "animals", "a camel groaning")),
    (r"actor/(fauna|mounted)/death/death_horse", ("horse", "animals", "a horse squealing in pain")),
    (r"actor/fauna/death/goat", ("goat", "animals", "a goat bleating")),
    (r"actor/fauna/.*", None),  # generic animal deaths, a camel's steps: the name does not say what is heard
    (r"actor/gate/stonegate_close", ("gate", "buildings", "a heavy stone gate closing")),
    (r"actor/gate/stonegate_open", ("gate", "buildings", "a heavy stone gate opening")),
    (r"actor/human/death/female_death", ("scream", "people", "a woman crying out in pain")),
    (r"actor/human/death/(male_)?death", ("scream", "people", "a man crying out in pain")),
    (r"actor/human/movement/hstep_dirt_mn", ("footsteps", "people", "footsteps on dirt")),
    (r"actor/human/movement/hstep_run_dirt_mn", ("footsteps", "people", "someone running on dirt")),
    (r"actor/human/movement/footsteps/foo[rt]step_(\w+)_running", ("footsteps", "people", "someone running on {0}")),
    (r"actor/human/movement/footsteps/foo[rt]step_(\w+)_walking", ("footsteps", "people", "footsteps walking on {0}")),
    (r"actor/mounted/movement/mstep", ("horse", "animals", "a horse's hooves trotting")),
    (r"actor/singlesteps/fs_(\w+)", ("footsteps", "people", "a footstep on {0}")),
    (r"actor/.*", None),  # ships: the names say when the game plays them, not what is heard
    (r"ambient/building/amb_farm", ("farm", "places", "a farmyard with animals")),
    (r"ambient/building/amb_port", ("harbor", "places", "a busy harbor")),
    (r"ambient/building/amb_trade", ("market", "places", "a busy marketplace")),
    (r"ambient/dayscape/day_temperate(_gen)?", ("forest", "nature", "birds singing in a forest")),
    (r"ambient/dayscape/day_tropical", ("jungle", "nature", "birds and insects in a tropical jungle")),
    (r"ambient/water/river_(fast|raging)", ("river", "water", "a fast river rushing")),
    (r"ambient/water/river_(med|slow)", ("river", "water", "a river flowing")),
    (r"ambient/water/waterfall", ("waterfall", "water", "a waterfall")),
    (r"ambient/water/wave", ("waves", "water", "waves lapping")),
    (r"ambient/water/wavecrash", ("waves", "water", "waves crashing")),
    (r"ambient/water/waverocky", ("waves", "water", "waves breaking on rocks")),
    (r"ambient/weather/rain", ("rain", "weather", "rain falling")),
    (r"ambient/weather/snowstorm", ("storm", "weather", "a snowstorm howling")),
    (r"ambient/weather/thunder", ("thunder", "weather", "thunder rumbling")),
    (r"ambient/weather/wind", ("wind", "weather", "wind blowing")),
    (r"ambient/weather/windgust", ("wind", "weather", "a gust of wind")),
    (r"ambient/weather/windleaves", ("wind", "weather", "wind rustling the leaves")),
    (r"ambient/weather/windstorm", ("storm", "weather", "a windstorm")),
    (r"attack/destruction/building_collapse_large", ("collapse", "impacts", "a building collapsing")),
    (r"attack/destruction/explode_debris", ("explosion", "impacts", "an explosion with falling debris")),
    (r"attack/impact/arrow", ("arrow", "weapons", "an arrow hitting its target")),
    (r"attack/impact/arrow_(dirt|metal|stone|wood)", ("arrow", "weapons", "an arrow hitting {0}")),
    (r"attack/impact/flesh(imp|stab)", ("stab", "weapons", "a blade stabbing flesh")),
    (r"attack/impact/shield_metal", ("shield", "weapons", "a blow on a metal shield")),
    (r"attack/impact/shield_wood", ("shield", "weapons", "a blow on a wooden shield")),
    (r"attack/impact/siegeprojectilehit", ("boulder", "weapons", "a heavy boulder crashing into a wall")),
    (r"attack/impact/sling_(metal|stone|wood)", ("sling", "weapons", "a sling stone hitting {0}")),
    (r"attack/siege/ballist_(rome_)?attack", ("ballista", "weapons", "a ballista firing a bolt")),
    (r"attack/siege/onager_moving", ("catapult", "weapons", "a wooden catapult rolling")),
    (r"attack/siege/onager_shooting", ("catapult", "weapons", "a catapult hurling a stone")),
    (r"attack/siege/ram_attack", ("battering ram", "weapons", "a battering ram pounding a gate")),
    (r"attack/siege/ram_move", ("battering ram", "weapons", "a battering ram rolling on wheels")),
    (r"attack/weapon/musket", ("musket", "weapons", "a musket shot")),
    (r"attack/weapon/arrowfly", ("arrow", "weapons", "an arrow whizzing past")),
    (r"attack/weapon/bow_attack", ("bow", "weapons", "a bow shooting an arrow")),
    (r"attack/weapon/jav_attack", ("javelin", "weapons", "a javelin being thrown")),
    (r"attack/weapon/(pike|spear)_attack", ("spear", "weapons", "a spear thrust")),
    (r"attack/weapon/sling(_attack)?", ("sling", "weapons", "a sling whirling and throwing a stone")),
    (r"attack/weapon/sword_attack", ("sword", "weapons", "a sword swinging")),
    (r"attack/weapon/swordhit(_\d*[ab])?", ("sword", "weapons", "swords clashing")),
    (r"resource/construction/con_saw", ("saw", "work", "sawing wood")),
    (r"resource/construction/con_stone", ("chisel", "work", "chiseling stone")),
    (r"resource/construction/con_wood", ("hammer", "work", "hammering wood")),
    (r"resource/farming/hoe", ("hoe", "work", "a hoe digging the soil")),
    (r"resource/foraging/leaves", ("leaves", "nature", "leaves rustling")),
    (r"resource/gathering/gather_field", ("harvest", "work", "harvesting grain in a field")),
    (r"resource/gathering/gather_fruit", ("fruit", "work", "picking fruit from a bush")),
    (r"resource/gathering/gather_meat", ("meat", "work", "butchering meat")),
    (r"resource/lumbering/lumber_tree", ("axe", "work", "chopping wood with an axe")),
    (r"resource/mining/mine_metal", ("pickaxe", "work", "a pickaxe striking metal ore")),
    (r"resource/mining/mine_stone", ("pickaxe", "work", "a pickaxe striking stone")),
    (r".*", None),  # *expire (the last stroke, same as the rest), attack/fire abbreviations, siege UI
]
# Portrait stem (after "fauna_"/"flora_"/...) -> (concept, caption); None: left out.
PORTRAIT_CAPTIONS: dict[str, tuple[str, str] | None] = {
    "fauna_arctic_wolf": ("wolf", "an arctic wolf"), "fauna_auroch": ("aurochs", "an aurochs"),
    "fauna_bear_black": ("bear", "a black bear"), "fauna_bear_brown": ("bear", "a brown bear"),
    "fauna_bear_polar": ("bear", "a polar bear"), "fauna_boar": ("boar", "a wild boar"), "fauna_bull": ("cow", "a bull"),
    "fauna_calf": ("cow", "a calf"), "fauna_camel": ("camel", "a camel"), "fauna_camel_arabian": ("camel", "a dromedary camel"),
    "fauna_chicken": ("chicken", "a chicken"), "fauna_cow": ("cow", "a cow"), "fauna_crocodile": ("crocodile", "a crocodile"),
    "fauna_deer": ("deer", "a deer"), "fauna_dog": ("dog", "a dog"), "fauna_donkey": ("donkey", "a donkey"),
    "fauna_eagle": ("eagle", "an eagle"), "fauna_elephant_african_bush": ("elephant", "an African elephant"),
    "fauna_elephant_african_bush_1": ("elephant", "an African elephant"),
    "fauna_elephant_african_infant": ("elephant", "a baby elephant"), "fauna_elephant_asian": ("elephant", "an Asian elephant"),
    "fauna_elephant_asian_2": ("elephant", "an Asian elephant"), "fauna_elephant_north_african": ("elephant", "an elephant"),
    "fauna_fish": ("fish", "fish swimming"), "fauna_fox_arctic": ("fox", "an arctic fox"), "fauna_fox_red": ("fox", "a red fox"),
    "fauna_gazelle": ("gazelle", "a gazelle"), "fauna_generic": ("meat", "a raw steak"), "fauna_giraffe": ("giraffe", "a giraffe"),
    "fauna_goat": ("goat", "a goat"), "fauna_hippopotamus": ("hippopotamus", "a hippopotamus"), "fauna_horse": ("horse", "a horse"),
    "fauna_lion": ("lion", "a lion"), "fauna_muskox": ("musk ox", "a musk ox"), "fauna_partridge_chukar": ("partridge", "a partridge"),
    "fauna_peacock": ("peacock", "a peacock"), "fauna_pig": ("pig", "a pig"), "fauna_pig_flaming": None,
    "fauna_rabbit": ("rabbit", "a rabbit"), "fauna_rhino": ("rhinoceros", "a rhinoceros"),
    "fauna_sanga": ("cow", "a long-horned cow"), "fauna_shark": ("shark", "a shark"), "fauna_sheep": ("sheep", "a sheep"),
    "fauna_tiger": ("tiger", "a tiger"), "fauna_walrus": ("walrus", "a walrus"), "fauna_whale": ("whale", "a whale"),
    "fauna_wildebeest": ("wildebeest", "a wildebeest"), "fauna_wolf": ("wolf", "a wolf"), "fauna_zebra": ("zebra", "a zebra"),
    "fauna_zebu": ("cow", "a zebu"), "flora_bamboo": ("bamboo", "bamboo"), "flora_bush_berry": ("fruit", "a basket of fruit"),
    "flora_bush_grapes": ("bush", "a bush"), "flora_tree_aleppo_pine": ("pine tree", "a pine tree"),
    "flora_tree_apple": ("apple tree", "an apple tree"), "flora_tree_baobab": ("baobab", "a baobab tree"),
    "flora_tree_carob": ("tree", "a carob tree"), "flora_tree_cretan_date_palm": ("palm tree", "date palm trees"),
    "flora_tree_cypress": ("cypress", "cypress trees"), "flora_tree_date_palm": ("palm tree", "date palm trees"),
    "flora_tree_generic": ("wood", "a pile of logs"), "flora_tree_medit_fan_palm": ("palm tree", "a fan palm tree"),
    "flora_tree_pine": ("pine tree", "a pine tree"), "flora_tree_senegal_date_palm": ("palm tree", "a date palm tree"),
    "geology_metal": ("anvil", "an anvil"), "geology_metal_2": ("gold", "glittering gold ore"),
    "geology_stone": ("stone", "stone blocks"), "geology_stone_1": ("stone", "stone blocks"),
    "geology_stone_2": ("stone", "clay bricks"), "special_blank": None, "special_fence": ("fence", "a wooden fence"),
    "special_obelisk": ("obelisk", "an obelisk"), "special_settlement": None, "special_stoa": ("people", "a man and a woman"),
    "special_treasure": ("treasure", "a treasure chest full of gold coins"),
    "special_treasure_food": ("food", "a crate full of food"),
}


def sound_caption(path: str) -> tuple[str, str, str] | None:
    """(concept, category, caption) for a path under ``audio/``, or None when it is left out."""
    key = re.sub(r"([_-]?\d+)+$", "", path.lower().removeprefix("audio/").removesuffix(".ogg"))
    for pattern, caption in SOUND_RULES:
        found = re.fullmatch(pattern, key)
        if found:
            if caption is None:
                return None
            concept, category, text = caption
            return concept, category, text.format(*found.groups())
    return None


def build(cache: Path, reserved: frozenset[str], *, max_side: int = 512) -> ManifestBuild:
    root, versions = fetch_debs((PACKAGE,), cache, members=MEMBERS)
    result = ManifestBuild(NAME, credits=CREDITS.format(version=versions[PACKAGE]))
    files = cache / "files"
    with zipfile.ZipFile(root / ARCHIVE) as archive:
        names = sorted(archive.namelist())
        sounds = collect_sounds(archive, [n for n in names if n.startswith("audio/") and n.endswith(".ogg")], files, result)
        pictures = collect_portraits(archive, [n for n in names if n.startswith(PORTRAITS) and n.endswith(".dds")],
                                     files, cache / f"images-{max_side}", max_side, result)
    for record, origins in pair_by_concept(NAME, pictures, sounds):
        result.add(record, origins)
    result.drop_reserved(reserved)
    return result


def extract(archive: zipfile.ZipFile, name: str, files: Path) -> Path:
    """One member, written once into the cache (atomically)."""
    path = files / name
    info = archive.getinfo(name)
    if not path.exists() or path.stat().st_size != info.file_size:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(archive.read(info))
        partial.replace(path)
    return path


def collect_sounds(archive: zipfile.ZipFile, names: list[str], files: Path, result: ManifestBuild) -> list[Item]:
    sounds, per_caption, seen = [], Counter(), {}
    for name in names:
        caption = sound_caption(name)
        if caption is None:
            folder = name.split("/")[1]
            reason = {"music": "music", "voice": "unit voice", "interface": "interface sound"}.get(
                folder, "the file name does not say what is heard")
            result.drop(reason, name.removeprefix("audio/"))
            continue
        concept, category, text = caption
        if per_caption[text] >= MAX_PER_CAPTION:
            result.drop(f"repetitive: over {MAX_PER_CAPTION} variants of one sound", name.removeprefix("audio/"))
            continue
        path = extract(archive, name, files)
        problem, digest = audio_problem(path, min_seconds=0.1)
        if problem or digest in seen:
            result.drop(problem.split(" (")[0] if problem else "duplicate", name.removeprefix("audio/"))
            continue
        seen[digest] = name
        per_caption[text] += 1
        sounds.append(Item(concept, f"sounds/{category}", text, path, path))
    return sounds


def collect_portraits(archive: zipfile.ZipFile, names: list[str], files: Path, images: Path, max_side: int,
                      result: ManifestBuild) -> list[Item]:
    pictures = []
    for name in names:
        stem = name.rsplit("/", 1)[1].removesuffix(".png.cached.dds")
        entry = PORTRAIT_CAPTIONS.get(stem)
        if entry is None:
            result.drop("portrait: not a thing a caption can name" if stem in PORTRAIT_CAPTIONS
                        else "portrait: not in the caption table", stem)
            continue
        source = extract(archive, name, files)
        png = images / f"{stem}.png"
        if not png.exists():
            error = make_thumbnail(source, png, max_side, on_white=False)
            if error:
                result.drop(f"portrait: {error.split(':')[0]}", stem)
                continue
        concept, caption = entry
        category = {"fauna": "animals", "flora": "plants"}.get(stem.split("_")[0], "things")
        pictures.append(Item(concept, f"portraits/{category}", caption, png, source))
    return pictures
