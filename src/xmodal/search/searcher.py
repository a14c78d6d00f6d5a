"""Any-to-any search: a query (text, image, audio or stored item) -> ranked items of target modalities."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from xmodal.encoders import Audio, Encoder
from xmodal.errors import NotFound
from xmodal.fusion import FusionMode, LateCombine, weight_of
from xmodal.modalities import NAMES as MODALITIES
from xmodal.search.composite import Part, Query, QueryError, combine, reciprocal_rank_fusion
from xmodal.search.item_fusion import ItemFusion
from xmodal.search.results import Hit, Page, PartHit
from xmodal.store import Item, Store, StoreError, describe_model
from xmodal.store.filters import Filters
from xmodal.store.schema import ITEM

PART_DEPTH = 4  # with items with parts, each modality is searched this much deeper than the page


class ItemNotFound(NotFound):
    pass


class Searcher:
    def __init__(self, store: Store, encoder: Encoder) -> None:
        if encoder.info.identity() != store.model:
            raise StoreError(
                f"store {store.directory} was built with {describe_model(store.model)}, but this xmodal loads "
                f"{describe_model(encoder.info.identity())}; index into a new store to use it"
            )
        self.store = store
        self.encoder = encoder

    def search_text(self, text: str, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_text([text])[0], modalities, k, query_kind="text")

    def search_image(self, image: Image.Image, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_image([image])[0], modalities, k, query_kind="image")

    def search_audio(self, audio: Audio, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        return self.search_vector(self.encoder.encode_audio([audio])[0], modalities, k, query_kind="audio")

    def search_item(self, reference: int | str, modalities: Sequence[str] | None = None, k: int = 10) -> list[Hit]:
        """More like a stored item (by id, or by external id); the item itself is left out."""
        item = self.find_item(reference)
        vector = self.store.vectors(item.modality).vector(item.id)
        return self.search_vector(vector, modalities, k, exclude=item.id, query_kind=item.modality)

    def find_item(self, reference: int | str) -> Item:
        item = self.store.find(reference)
        if item is None or item.status != "indexed":
            raise ItemNotFound(f"no indexed item with id or external id {reference!r}")
        return item

    def search_vector(
        self,
        vector: np.ndarray,
        modalities: Sequence[str] | None,
        k: int,
        exclude: int | None = None,
        query_kind: str | None = None,
    ) -> list[Hit]:
        """Search each target modality's index and merge (calibrated across kinds when the model can)."""
        excluded = set() if exclude is None else {exclude}
        fusion = self._item_fusion(query_kind, modalities, "late", None, "sum")
        ranked = self._vector_ranked(vector, modalities, k, None, excluded, None, query_kind, fusion)
        return self._hydrate(ranked, fusion)

    def search(self, query: Query) -> Page:
        """A full query: weighted parts, filters, min score, a page of results, vector/keyword/hybrid."""
        if not query.parts:
            raise QueryError("a query needs at least one input")
        need = query.offset + query.k + 1  # one more than the page, to know whether another page follows
        depth = need if query.mode == "vector" else max(2 * need, 50)  # fusion looks deeper than the page
        where = query.filters if query.filters is not None and not query.filters.is_empty() else None
        exclude = {self.find_item(part.item).id for part in query.parts if part.item is not None}
        rankings = []
        kind = self._query_kind(query.parts) if query.mode != "keyword" else None
        fusion = self._item_fusion(kind, query.modalities, query.fusion, query.weights, query.combine)
        if query.mode in ("vector", "hybrid"):
            vector = self.query_vector(query.parts)
            min_score = query.min_score if query.mode == "vector" else None
            args = (vector, query.modalities, depth, where, exclude, min_score, kind, fusion, query.fusion)
            rankings.append(self._vector_ranked(*args))
        if query.mode in ("keyword", "hybrid"):
            include, unwanted = query.keyword_texts()
            if query.mode == "keyword" and not include:
                raise QueryError(
                    "keyword search needs query text (a 'text' input or a text part with a positive weight)"
                )
            if "text" in (query.modalities or MODALITIES):
                rankings.append(self._as_items(self._keyword_ranked(include, unwanted, depth, where, exclude), exclude))
        ranked = reciprocal_rank_fusion(*rankings) if query.mode == "hybrid" else (rankings or [[]])[0]
        if query.min_score is not None:
            ranked = [pair for pair in ranked if pair[0] >= query.min_score]
        ranked = ranked[:need]
        following = query.offset + query.k if len(ranked) > query.offset + query.k else None
        hits = self._hydrate(ranked[query.offset : query.offset + query.k], fusion)
        return Page(hits, query.offset, following, query.mode)

    def _item_fusion(
        self,
        query_kind: str | None,
        modalities: Sequence[str] | None,
        mode: FusionMode,
        weights: Mapping[str, float] | None,
        combine: LateCombine,
    ) -> ItemFusion | None:
        """How this query turns part hits into items; None while the store has no items with parts."""
        if len(self.store.vectors(ITEM)) == 0:
            return None
        targets = list(modalities or MODALITIES)
        calibrated = mode == "late" and len(targets) > 1 and self.encoder.calibration.covers(query_kind, targets)
        return ItemFusion(self.store, self.encoder.calibration, query_kind, calibrated, weights, combine)

    def _as_items(self, ranked: list[tuple[float, int]], exclude: set[int]) -> list[tuple[float, int]]:
        """Keyword hits on parts (captions) become hits on their items, each once, at its best rank."""
        rows = self.store.get([item_id for _, item_id in ranked])
        seen, out = set(), []
        for score, item_id in ranked:
            row = rows.get(item_id)
            target = row.parent_id if row is not None and row.parent_id is not None else item_id
            if target not in seen and target not in exclude:
                seen.add(target)
                out.append((score, target))
        return out

    def query_vector(self, parts: Sequence[Part]) -> np.ndarray:
        """One part: its embedding; several: their weighted sum, normalised."""
        vectors = [self._part_vector(part) for part in parts]
        if len(parts) == 1 and parts[0].weight > 0:
            return vectors[0]
        return combine(vectors, [part.weight for part in parts])

    def _query_kind(self, parts: Sequence[Part]) -> str | None:
        """The kind of a one-input query (what calibration needs); None for a mix."""
        if len(parts) != 1 or parts[0].weight <= 0:
            return None
        part = parts[0]
        if part.text is not None:
            return "text"
        return part.modality if part.media is not None else self.find_item(part.item).modality  # type: ignore[arg-type]

    def _part_vector(self, part: Part) -> np.ndarray:
        if part.text is not None:
            return self.encoder.encode_text([part.text])[0]
        if part.media is not None:
            return self.encoder.encode(part.modality, [part.media])[0]  # type: ignore[arg-type]
        item = self.find_item(part.item)  # type: ignore[arg-type]
        return self.store.vectors(item.modality).vector(item.id)

    def _vector_ranked(
        self,
        vector: np.ndarray,
        modalities: Sequence[str] | None,
        need: int,
        where: Filters | None,
        exclude: set[int],
        min_score: float | None,
        query_kind: str | None = None,
        fusion: ItemFusion | None = None,
        fusion_mode: FusionMode = "late",
    ) -> list[tuple[float, int]]:
        """(cosine, id) pairs, best first. Several result kinds are interleaved by the model's
        calibration where it covers them (see xmodal.encoders.calibration), else by raw cosine.
        With `fusion`, hits on parts become hits on their items (late: scored from their parts; early:
        the items' fused vectors are searched instead)."""
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        targets = list(modalities or MODALITIES)
        if fusion is not None:
            targets = [modality for modality in targets if weight_of(modality, fusion.weights) > 0]
        calibration = self.encoder.calibration
        calibrated = len(targets) > 1 and calibration.covers(query_kind, targets) and fusion_mode == "late"
        depth = need * PART_DEPTH if fusion is not None else need  # parts of one item take several places
        keyed: list[tuple[float, float, int]] = []
        for modality in targets:
            for score, item_id in self._modality_ranked(modality, query, depth, where, exclude, min_score):
                key = calibration.standardise(query_kind, modality, score) if calibrated else score  # type: ignore[arg-type]
                keyed.append((key, score, item_id))
        keyed.sort(key=lambda row: (-row[0], row[2]))
        if fusion is not None and fusion_mode == "late":
            keyed = fusion.late(query[0], keyed, targets, exclude)
        elif fusion is not None:
            items = self._modality_ranked(ITEM, query, need, where, exclude, min_score)
            keyed = fusion.early(query[0], items, keyed)
        return [(score, item_id) for _, score, item_id in keyed[:need]]

    def _modality_ranked(
        self,
        modality: str,
        query: np.ndarray,
        need: int,
        where: Filters | None,
        exclude: set[int],
        min_score: float | None,
    ) -> list[tuple[float, int]]:
        """Top `need` of one modality's index that pass the filters and the minimum score. A filter that
        matches few items is handed to the index as the set of allowed ids; one that matches many is
        checked on the candidates instead, searching deeper until enough pass."""
        index = self.store.vectors(modality)
        allowed = None if where is None else self.store.matching_ids(where, modality)
        if where is None or allowed is not None:
            allowed = None if allowed is None else allowed - exclude
            scores, ids = index.search(query, need + (len(exclude) if allowed is None else 0), allowed)
            return _passing(scores[0], ids[0], exclude, min_score)[:need]
        fetch = need + len(exclude)
        while True:
            scores, ids = index.search(query, fetch)
            pairs = _passing(scores[0], ids[0], exclude, min_score)
            below = min_score is not None and len(scores[0]) > 0 and scores[0][-1] < min_score
            passed = self.store.allowed_ids(where, [item_id for _, item_id in pairs])
            pairs = [pair for pair in pairs if pair[1] in passed]
            if len(pairs) >= need or below or fetch >= len(index):
                return pairs[:need]
            fetch = min(fetch * 4, len(index))

    def _keyword_ranked(
        self, include: list[str], unwanted: list[str], need: int, where: Filters | None, exclude: set[int]
    ) -> list[tuple[float, int]]:
        found = self.store.keyword_search(include, unwanted, need + len(exclude), where)
        return [(score, item_id) for item_id, score in found if item_id not in exclude][:need]

    def _hydrate(self, ranked: Sequence[tuple[float, int]], fusion: ItemFusion | None = None) -> list[Hit]:
        items = self.store.get([item_id for _, item_id in ranked])
        with_parts = [item_id for item_id in items if items[item_id].modality == ITEM]
        parts = self.store.parts_of(with_parts) if with_parts else {}
        scores = fusion.part_scores if fusion is not None else {}
        best = fusion.best_part if fusion is not None else {}
        return [
            _hit(items[item_id], score, parts.get(item_id), scores, best.get(item_id))
            for score, item_id in ranked
            if item_id in items
        ]


def _passing(
    scores: np.ndarray, ids: np.ndarray, exclude: set[int], min_score: float | None
) -> list[tuple[float, int]]:
    pairs = [
        (float(score), int(item_id)) for score, item_id in zip(scores, ids) if item_id >= 0 and item_id not in exclude
    ]
    return pairs if min_score is None else [pair for pair in pairs if pair[0] >= min_score]


def _hit(
    item: Item,
    score: float,
    parts: list[Item] | None = None,
    scores: Mapping[int, float] | None = None,
    best: int | None = None,
) -> Hit:
    if parts is None:
        return Hit(item.id, item.external_id, item.modality, item.path, item.text, round(score, 6), item.meta or {})
    shown = [PartHit(p.id, p.modality, p.path, p.text, _rounded((scores or {}).get(p.id)), p.piece) for p in parts]
    best = best if best is not None else (parts[0].id if parts else None)
    return Hit(
        item.id, item.external_id, item.modality, item.path, item.text, round(score, 6), item.meta or {}, shown, best
    )


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 6)
