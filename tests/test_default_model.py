"""The shipped default model on the real sample corpus (Tux Paint stamps, sounds and captions).

The heads were trained with every sample concept (and its caption twins) held out, so these
checks measure generalisation to unseen images and sounds; they assert clear margins over
chance, not perfection.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import SAMPLES
from xmodal.config import Settings
from xmodal.encoders import load_audio, load_image, load_model
from xmodal.encoders.registry import describe_models
from xmodal.indexer import IndexJob, collect_sources
from xmodal.search import Searcher
from xmodal.store import Store

pytestmark = pytest.mark.slow
CONCEPTS = [json.loads(line) for line in (SAMPLES / "concepts.jsonl").read_text().splitlines()]
WITH_SOUND = [concept for concept in CONCEPTS if concept.get("audio")]
SOUND_CAPTION_TOP5 = 0.8  # the model issue's target; measured 20 of 24 with xmodal-base 0.4.0 (0.3.0: 18)


@pytest.fixture(scope="module")
def model():
    return load_model("xmodal-base", torch.device("cpu"), batch_size=16)


@pytest.fixture(scope="module")
def embedded(model):
    captions = model.encode_text([concept["caption"] for concept in CONCEPTS])
    images = model.encode_image([load_image(SAMPLES / concept["image"], 10**8) for concept in CONCEPTS])
    sounds = model.encode_audio([load_audio(SAMPLES / concept["audio"], 30) for concept in WITH_SOUND])
    return captions, images, sounds


def ranks(queries: np.ndarray, candidates: np.ndarray, gold: list[int]) -> np.ndarray:
    scores = queries @ candidates.T
    return np.array([(scores[row] > scores[row, answer]).sum() for row, answer in enumerate(gold)])


def test_towers_load_only_when_their_modality_is_asked_for() -> None:
    fresh = load_model("xmodal-base", torch.device("cpu"))
    assert fresh.info.modalities == ("text", "image", "audio")  # the identity needs no tower
    fresh.encode_text(["a dog"])
    loaded = set(vars(fresh)) | set(vars(fresh.audio_towers))
    assert "text_tower" in loaded
    assert not loaded & {"image_tower", "yamnet", "aisfx", "aisfx_frontend"}
    fresh.encode_audio([load_audio(SAMPLES / "corpus" / "sounds" / "dog.ogg", 30)])
    assert "image_tower" not in vars(fresh)
    assert set(fresh.heads.audio.config.towers) <= set(vars(fresh.audio_towers))


def test_contract_unit_norm_float32(embedded, model) -> None:
    assert model.info.modalities == ("text", "image", "audio") and model.info.dim == 384
    card = next(card for card in describe_models() if card.name == "xmodal-base")  # what `xmodal models` says
    assert card.modalities == model.info.modalities and card.dimension == str(model.info.dim)
    for vectors in embedded:
        assert vectors.dtype == np.float32 and vectors.shape[1] == 384
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("query, wanted, unwanted", [
    ("a dog", "dog", "sports-car"),
    ("a zebra", "zebra", "violin"),
    ("a cello", "cello", "cow"),
    ("a school bus", "school-bus", "owl"),
    ("an airplane", "airplane", "strawberry"),
])
def test_text_ranks_the_matching_image_above_an_unrelated_one(model, embedded, query, wanted, unwanted) -> None:
    names = [concept["name"] for concept in CONCEPTS]
    scores = model.encode_text([query])[0] @ embedded[1].T
    assert scores[names.index(wanted)] > scores[names.index(unwanted)]


def test_text_image_retrieval_over_the_corpus(embedded) -> None:
    captions, images, _ = embedded
    gold = list(range(len(CONCEPTS)))
    assert np.mean(ranks(captions, images, gold) < 5) >= 0.8  # chance: 5/40; measured 0.85 (xmodal-base 0.2.0)
    assert np.mean(ranks(images, captions, gold) < 5) >= 0.8  # measured 0.90


def test_unseen_sounds_find_their_captions_well_above_chance(embedded) -> None:
    captions, _, sounds = embedded
    gold = [CONCEPTS.index(concept) for concept in WITH_SOUND]
    # fraction of wrong captions that the right caption beats; chance is 0.5
    beaten = 1 - ranks(sounds, captions, gold) / (len(CONCEPTS) - 1)
    assert beaten.mean() >= 0.7  # measured 0.76 (xmodal-base 0.2.0)
    assert np.mean(ranks(sounds, captions, gold) < 10) >= 0.55  # chance: 10/40; measured 0.62
    assert np.mean(ranks(captions[gold], sounds, list(range(len(gold)))) < 10) >= 0.55  # chance: 10/24; measured 0.62


def test_each_sound_finds_its_own_caption_in_its_top_five(embedded) -> None:
    captions, _, sounds = embedded
    gold = [CONCEPTS.index(concept) for concept in WITH_SOUND]
    assert np.mean(ranks(sounds, captions, gold) < 5) >= SOUND_CAPTION_TOP5


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, model) -> Searcher:
    settings = Settings(store=tmp_path_factory.mktemp("sample") / "store")
    store = Store.open(settings.store, model.info.identity(), writable=True)
    IndexJob(store, model, settings).run(collect_sources([SAMPLES / "corpus"]))
    return Searcher(store, model)


@pytest.mark.parametrize("query, name", [("a cow", "cow"), ("a dog barking", "dog"), ("a violin", "violin")])
def test_a_mixed_list_interleaves_the_picture_the_sound_and_the_caption(sample_store, query, name) -> None:
    """With every kind selected, the calibrated list mixes kinds (raw cosine put nine captions before any
    picture) and holds the concept in at least two of them in its top 5 (measured with 0.4.0: cow caption
    and sound, dog sound and caption, violin caption and picture)."""
    top = sample_store.search_text(query, None, k=5)
    kinds_of_concept = {hit.modality for hit in top if hit.path and Path(hit.path).stem == name}
    assert len(kinds_of_concept) >= 2, [(h.modality, h.path) for h in top]
    assert len({hit.modality for hit in top}) >= 2


def test_index_and_search_the_sample_corpus(tmp_path: Path, model) -> None:
    settings = Settings(store=tmp_path / "store")
    store = Store.open(settings.store, model.info.identity(), writable=True)
    summary = IndexJob(store, model, settings).run(collect_sources([SAMPLES / "corpus"]))
    texts = len(list((SAMPLES / "corpus" / "texts").glob("*.txt")))
    assert summary.failed == 0
    assert summary.indexed + summary.unchanged == len(CONCEPTS) + len(WITH_SOUND) + texts
    searcher = Searcher(store, model)
    top_images = [Path(hit.path).stem for hit in searcher.search_text("an airplane", ["image"], k=3)]
    assert "airplane" in top_images
    sound = load_audio(SAMPLES / "corpus" / "sounds" / "sheep.ogg", 30)
    hits = searcher.search_audio(sound, ["text"], k=5)
    expected = model.encode_audio([sound])[0] @ model.encode_text([hits[0].text])[0]
    assert hits[0].score == pytest.approx(float(expected), abs=1e-4)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
