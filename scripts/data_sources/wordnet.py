"""Is a name a concrete thing? Looked up in WordNet 3.0's noun database (Debian ``wordnet-base``).

Icon sets mix pictures of things ("cow", "fire truck") with interface glyphs ("sync", "layers",
"format-bold"). WordNet files every noun sense under a lexicographer file; a name whose most
common sense is an animal, artifact, food, plant, body part, natural object, person, substance,
place or natural phenomenon is something a picture can show, and so a caption a model can learn.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")
LEXNAMES = ("adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
            "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
            "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
            "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time").split()
CONCRETE = frozenset({"noun.animal", "noun.artifact", "noun.body", "noun.food", "noun.object", "noun.person",
                      "noun.plant", "noun.substance", "noun.location", "noun.phenomenon"})


class WordNet:
    def __init__(self, folder: Path = WORDNET_DIR) -> None:
        if not (folder / "index.noun").exists():
            raise FileNotFoundError(f"no WordNet noun index in {folder} (apt-get install wordnet-base)")
        self._data = (folder / "data.noun").read_bytes()
        self._index: dict[str, list[int]] = {}
        for line in (folder / "index.noun").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue  # licence header
            fields = line.split()
            pointer_count = int(fields[3])
            senses = int(fields[2])
            self._index[fields[0]] = [int(offset) for offset in fields[6 + pointer_count: 6 + pointer_count + senses]]
        self._adjectives = {line.split(" ", 1)[0] for line in (folder / "index.adj").read_text(encoding="latin-1").splitlines()
                            if not line.startswith(" ")}
        self._exceptions = {}
        for line in (folder / "noun.exc").read_text(encoding="latin-1").splitlines():
            inflected, base = line.split()[:2]
            self._exceptions[inflected] = base

    def lexnames(self, phrase: str) -> list[str]:
        """Lexicographer files of the noun's senses, most common first ([] when not a noun)."""
        lemma = self.base_form(phrase)
        if lemma is None:
            return []
        names = []
        for offset in self._index[lemma]:
            lex_file = int(self._data[offset: offset + 20].split()[1])
            names.append(LEXNAMES[lex_file])
        return names

    def base_form(self, phrase: str) -> str | None:
        """The index entry for ``phrase`` ("fire trucks" -> "fire_truck"), or None."""
        word = "_".join(phrase.lower().split())
        candidates = [word, self._exceptions.get(word, "")]
        for suffix, replacement in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ses", "s"), ("s", "")):
            if word.endswith(suffix):
                candidates.append(word[: -len(suffix)] + replacement)
        return next((c for c in candidates if c and c in self._index), None)

    def is_concrete(self, phrase: str, senses: int = 1) -> bool:
        """Whether one of the ``senses`` most common senses is something a picture can show."""
        return any(name in CONCRETE for name in self.lexnames(phrase)[:senses])

    def is_proper(self, phrase: str) -> bool:
        """Whether the most common sense is a name ("Hungary", "Aries", "Black Sea"), not a kind of thing."""
        lemma = self.base_form(phrase)
        if lemma is None:
            return False
        offset = self._index[lemma][0]
        written = self._data[offset: offset + 200].split()[4].decode("latin-1")
        return written[:1].isupper()

    def is_adjective(self, word: str) -> bool:
        """An adjective that is not mainly a noun ("electric", "australian"; not "water")."""
        lowered = word.lower()
        return lowered in self._adjectives and len(self.lexnames(lowered)) <= 1

    def knows(self, phrase: str) -> bool:
        return self.base_form(phrase) is not None


@lru_cache(maxsize=1)
def wordnet() -> WordNet:
    return WordNet()


def concrete_head(words: list[str], net: WordNet, senses: int = 1) -> str | None:
    """The longest tail of ``words`` that WordNet knows, if it is concrete: ["red", "fire", "truck"] -> "fire truck"."""
    for start in range(len(words)):
        tail = " ".join(words[start:])
        if net.knows(tail):
            return tail if net.is_concrete(tail, senses) else None
    return None
