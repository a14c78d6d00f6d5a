"""Scratch 1.4 media (Debian ``scratch``, media CC-BY-SA-3.0 by MIT): effect sounds, costumes, backgrounds.

Sounds are captioned from a hand-checked table (file names such as "Dog1" or "BalloonScratch" do
not say what is heard); music loops, spoken or sung words and abstract synthesiser noises are
left out. Costumes and backgrounds are captioned from their names ("bird-flying" -> "a bird
flying"), with a table for the names that say nothing (people's first names, "gobo", "fantasy4"),
written after looking at the pictures. Letters (360 stylised glyphs) are left out.

A concept with both a sound and a picture ("dog") gets records that carry both, so the sound of
Scratch's dog is paired with Scratch's dog costume: ``text`` is the sound's caption, ``texts``
holds the picture's.
"""

from __future__ import annotations

from pathlib import Path

from data_sources.captions import name_words, with_article
from data_sources.fetch import fetch_debs
from data_sources.manifest import ManifestBuild
from data_sources.media import audio_problem, make_thumbnail
from data_sources.pairing import Item, pair_by_concept

NAME = "scratch"
PACKAGE = "scratch"
MEDIA = Path("usr/share/scratch/Media")
CREDITS = """Source: Debian package `scratch` {version} (Scratch 1.4, https://scratch.mit.edu).
Licence of the media (sounds, costumes, backgrounds): CC-BY-SA-3.0, Copyright (c) 2011 Massachusetts
Institute of Technology (see the package's `usr/share/doc/scratch/copyright` and `ACKNOWLEDGEMENTS`).
Captions were written for this project from the file names; images were resized (alpha kept)."""

# Sound file stem -> (concept, caption); None: not usable as a captioned effect.
SOUNDS: dict[str, tuple[str, str] | None] = {
    "Bird": ("bird", "a bird chirping"), "Cat": ("cat", "a cat meowing"), "Cricket": ("cricket", "a cricket chirping"),
    "Crickets": ("cricket", "crickets chirping"), "Dog1": ("dog", "a dog barking"), "Dog2": ("dog", "a dog barking"),
    "Duck": ("duck", "a duck quacking"), "Goose": ("goose", "a goose honking"), "Horse": ("horse", "a horse neighing"),
    "HorseGallop": ("horse", "a horse galloping"), "Kitten": ("cat", "a kitten meowing"), "Meow": ("cat", "a cat meowing"),
    "Owl": ("owl", "an owl hooting"), "Rooster": ("rooster", "a rooster crowing"),
    "SeaLion": ("sea lion", "a sea lion barking"), "WolfHowl": ("wolf", "a wolf howling"),
    "BalloonScratch": ("balloon", "a rubber balloon squeaking"), "BellToll": ("bell", "a bell tolling"),
    "Bubbles": ("bubbles", "bubbles bubbling in water"), "CarPassing": ("car", "a car driving past"),
    "DoorClose": ("door", "a door closing"), "DoorCreak": ("door", "a door creaking"),
    "MotorcyclePassing": ("motorcycle", "a motorcycle driving past"), "Plunge": ("splash", "something plunging into water"),
    "Pop": ("pop", "a pop"), "Rattle": ("rattle", "a rattle shaking"), "Ripples": ("water", "water rippling"),
    "SewingMachine": ("sewing machine", "a sewing machine"), "Typing": ("keyboard", "typing on a keyboard"),
    "WaterDrop": ("water drop", "a drop of water falling"), "WaterRunning": ("water", "running water"),
    "ComputerBeeps1": ("computer", "computer beeps"), "ComputerBeeps2": ("computer", "computer beeps"),
    "Laser1": ("laser", "a laser gun zapping"), "Laser2": ("laser", "a laser gun zapping"),
    "Fairydust": ("magic", "a magical sparkling twinkle"), "Screech": ("screech", "an electronic screech"),
    "Whoop": ("whoop", "a rising electronic whoop"),
    "AlienCreak1": None, "AlienCreak2": None, "DirtyWhir": None, "Peculiar": None, "SpaceRipple": None,
    "Spiral": None, "Zoop": None,
    "BabyCry": ("baby", "a baby crying"), "Cough-female": ("cough", "a woman coughing"),
    "Cough-male": ("cough", "a man coughing"), "FingerSnap": ("snap", "fingers snapping"),
    "Footsteps-1": ("footsteps", "footsteps"), "Footsteps-2": ("footsteps", "footsteps"),
    "Laugh-female": ("laugh", "a woman laughing"), "Laugh-male1": ("laugh", "a man laughing"),
    "Laugh-male2": ("laugh", "a man laughing"), "Laugh-male3": ("laugh", "a man laughing"),
    "PartyNoise": ("party", "people chattering at a party"), "Scream-female": ("scream", "a woman screaming"),
    "Scream-male1": ("scream", "a man screaming"), "Scream-male2": ("scream", "a man screaming"),
    "Slurp": ("slurp", "someone slurping a drink"), "Sneeze-female": ("sneeze", "a woman sneezing"),
    "Sneeze-male": ("sneeze", "a man sneezing"),
    "AfroString": ("string instrument", "an African string instrument being plucked"), "Chord": None,
    "Dijjeridoo": ("didgeridoo", "a didgeridoo"), "GuitarStrum": ("guitar", "a guitar strum"),
    "SpookyString": ("strings", "spooky violin strings"), "StringAccent": None,
    "StringPluck": ("strings", "a plucked violin string"), "Suspense": ("strings", "suspenseful violin strings"),
    "Tambura": ("tambura", "a tambura drone"), "Trumpet1": ("trumpet", "a trumpet"), "Trumpet2": ("trumpet", "a trumpet"),
    "CymbalCrash": ("cymbal", "a cymbal crash"), "DrumBuzz": ("drum", "a snare drum roll"), "Gong": ("gong", "a gong"),
    "HandClap": ("clap", "hands clapping"), "RideCymbal": ("cymbal", "a ride cymbal"), "Shaker": ("shaker", "a shaker"),
    "BeatBox1": ("beatbox", "a person beatboxing"), "BeatBox2": ("beatbox", "a person beatboxing"),
}
DROPPED_SOUND_FOLDERS = {"Music Loops": "music loop", "Vocals": "spoken or sung words"}

# Picture stem (digits and -a/-b dropped) -> caption; None: the name does not say what it shows.
PICTURES: dict[str, str | None] = {
    "cub": "a lion cub", "insect": "an ant", "cat": "a cartoon cat", "clam": "a clam", "bird flying": "a pigeon flying",
    "fantasy": None, "gobo": None, "wild": "a monster", "monkeyking": "a monkey king", "skull": "a skeleton in a cloak",
    "sun": "the sun with a face", "ghoul": "a hooded ghoul", "monster": "a red monster", "robot": "a robot",
    "button": None, "button pressed": None, "cheesy puffs": "a bowl of cheesy puffs", "drum": "a drum",
    "hair": "a wig", "key": "a key", "lego": "a toy brick", "marble building": "a marble building",
    "mic": "a microphone on a stand", "palmtree": "a palm tree", "partyhat": "a party hat", "rock": "a rock",
    "scoreboard": "a scoreboard", "soccer": "a soccer ball", "sunglass f": "sunglasses", "tennisball": "a tennis ball",
    "umbrella": "a beach umbrella", "wizardhat": "a wizard hat", "beachball": "a beach ball", "bananas": "bananas",
    "fire hydrant": "a fire hydrant", "flower vase": "flowers in a vase", "fortune cookie": "a fortune cookie",
    "fruit platter": "a platter of fruit", "manhole": "a manhole cover",
    "airplane": "an airplane", "bike": "a bicycle", "car blue": "a blue car", "car bug": "a car", "car cow": "a car",
    "convertible": "a convertible car", "magiccarpet": "a magic carpet", "street cleaner mit": "a street sweeper",
    "tug boat": "a tugboat", "sail boat": "a sailboat",
    # People: first names say nothing; these were written looking at each picture.
    "amon": "a man dancing", "anjuli": "a woman dancing", "anna": "a girl dancing", "boy": "a boy",
    "boycurly": "a cartoon boy with curly hair", "boyshorts": "a cartoon boy in shorts", "breakdancer": "a breakdancer",
    "calvrett": "a man", "calvrett jumping": "a man jumping", "calvrett thinking": "a man crouching and thinking",
    "cassy chillin": "a woman standing", "cassy dancing": "a woman dancing", "cassy jumping": "a woman jumping",
    "cassy phone": "a woman talking on the phone", "cassy sitting": "a woman sitting cross-legged",
    "cassy standing": "a woman standing", "chamak": "a woman dancing", "dan": "a man dancing", "diver": "a diver",
    "ed": "a man in a long coat", "football run": "a football player running", "football stand": "a football player",
    "girl": "a girl", "jay": "a man in a coat", "jodi": "a woman",
    "lee fan": "a woman dancing with a fan", "mako laughing": "a man laughing",
    "mako screaming": "a man screaming", "mako stop": "a man", "marissa": "a woman", "marissa crouching": "a woman crouching",
    "marissa sitting": "a woman sitting", "nathan": "a man reading a newspaper", "nina": "a woman in a scarf",
    "paul": "a man", "royalperson": "a cartoon king", "roundman": None, "sam": "a boy", "singer": "a singer",
    "squaregirl": None, "squareguy": None, "thai dancer": "a Thai dancer", "womanbun": "a cartoon woman",
    "womanwaving": "a cartoon woman waving", "ribbon dancer": "a ribbon dancer", "referee": "a referee",
    "the movies": "a movie theater", "the movies inside": "a movie theater", "beach malibu": "a beach",
    "route": "a highway", "building at mit": "a building", "building fireproof": "a building", "mural faro": "a mural",
    "berkeley mural": "a mural", "atom playground": "a playground", "pool": "a swimming pool",
    "hallway outdoors": "an outdoor hallway", "city with water": "a city by the water", "night city": "a city at night",
    "night city with street": "a city street at night", "woods and bench": "a bench in the woods",
    "bench with view": "a bench with a view", "brick wall and stairs": "a brick wall and stairs",
    "all sports mural": "a sports mural", "parking ramp": "a parking garage", "spotlight stage": "a stage under a spotlight",
    "room": "a room", "hall": "a hall", "moon": "the surface of the moon", "stars": "stars in the night sky",
    "underwater": "underwater", "grand canyon": "the Grand Canyon", "wave": "a wave", "tennis backboard": "a tennis wall",
    "xy grid": None, "graffiti": "graffiti on a wall", "garden rock": "a rock in a garden",
}
# Stems whose own name needs its digit ("girl3-basketball") or is a person's action ("boy4-walking").
PICTURE_OVERRIDES = {"jodi2": "a woman doing the splits", "girl3-basketball": "a girl playing basketball",
                     "girl5": "a girl sitting"}
IMAGE_EXTENSIONS = (".png", ".gif", ".jpg")
# Picture concepts that a sound concept should pair with ("kitten" sounds go with cats).
PAIR_ALIASES = {"cartoon cat": "cat", "pigeon flying": "bird", "lion cub": "lion"}


def build(cache: Path, reserved: frozenset[str], *, max_side: int = 512) -> ManifestBuild:
    root, versions = fetch_debs((PACKAGE,), cache)
    media = root / MEDIA
    result = ManifestBuild(NAME, credits=CREDITS.format(version=versions[PACKAGE]))
    sounds = collect_sounds(media / "Sounds", result)
    pictures = collect_pictures(media, cache / f"images-{max_side}", max_side, result)
    for record, origins in pair_by_concept(NAME, pictures, sounds):
        result.add(record, origins)
    result.drop_reserved(reserved)
    return result


def collect_sounds(folder: Path, result: ManifestBuild) -> list[Item]:
    """The usable, captioned sounds."""
    sounds = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".wav", ".mp3"):
            continue
        folder_name = path.parent.name
        entry = SOUNDS.get(path.stem, ())
        if entry == () and folder_name in DROPPED_SOUND_FOLDERS:
            result.drop(f"sound: {DROPPED_SOUND_FOLDERS[folder_name]}", path.stem)
            continue
        if entry == ():
            result.drop("sound: not in the caption table", path.stem)
            continue
        if entry is None:
            result.drop("sound: abstract noise or unnamed music, no caption says what it is", path.stem)
            continue
        problem, digest = audio_problem(path)
        if problem or digest in seen:
            result.drop(f"sound: {problem or 'duplicate'}", path.stem)
            continue
        seen[digest] = path.stem
        concept, caption = entry
        sounds.append(Item(concept, f"sounds/{folder_name.lower()}", caption, path, path))
    return sounds


def collect_pictures(media: Path, images_dir: Path, max_side: int, result: ManifestBuild) -> list[Item]:
    """Costumes and backgrounds with a caption."""
    pictures = []
    for path in sorted((media / "Costumes").rglob("*")) + sorted((media / "Backgrounds").rglob("*")):
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        relative = path.relative_to(media)
        if relative.parts[1] == "Letters":
            result.drop("picture: a letter of the alphabet", relative.as_posix())
            continue
        caption = picture_caption(path.stem)
        if caption is None:
            result.drop("picture: the name does not say what it shows", relative.as_posix())
            continue
        dst = images_dir / relative.with_suffix(".png")
        if not dst.exists():
            error = make_thumbnail(path, dst, max_side, on_white=False)
            if error:
                result.drop(f"picture: {error.split(':')[0]}", relative.as_posix())
                continue
        concept = concept_of(caption)
        category = f"{relative.parts[0].lower()}/{relative.parts[1].lower()}"
        pictures.append(Item(concept, category, caption, dst, path))
    return pictures


def picture_caption(stem: str) -> str | None:
    if stem in PICTURE_OVERRIDES:
        return PICTURE_OVERRIDES[stem]
    words = [w for w in name_words(stem) if len(w) > 1 or w in ("f",)]
    key = " ".join(words)
    if key in PICTURES:
        return PICTURES[key]
    head = " ".join(w for w in words if w not in ("standing", "walking", "running", "sitting", "shouting",
                                                  "laughing", "shrugging"))
    if head in PICTURES and PICTURES[head] is None:
        return None
    if head in PICTURES:
        base = PICTURES[head]
        action = words[-1] if words[-1] != head.split()[-1] else ""
        return f"{base} {action}".strip()
    return with_article(key) if key else None


def concept_of(caption: str) -> str:
    """The thing a picture shows, for pairing with sounds: "a horse galloping" -> "horse"."""
    words = caption.split()
    if words and words[0] in ("a", "an", "the"):
        words = words[1:]
    noun = " ".join(words)
    return PAIR_ALIASES.get(noun, noun)
