"""Evaluation numbers on hand-made cases, checked against values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmodal.training.evaluate import build_report, eval_items, report_markdown
from xmodal.training.manifest import Record
from xmodal.training.metrics import expected_average_precision, random_scores, retrieval_scores


def test_recall_and_map_of_a_hand_made_ranking() -> None:
    similarity = np.array([
        [0.9, 0.1, 0.5, 0.3],  # relevant: 0 -> rank 1
        [0.9, 0.1, 0.5, 0.3],  # relevant: 1 -> rank 4
        [0.9, 0.8, 0.5, 0.3],  # relevant: 1 and 3 -> ranks 2 and 4
        [0.1, 0.2, 0.3, 0.4],  # nothing relevant: not scored
    ])
    relevant = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]], dtype=bool)
    scores = retrieval_scores(similarity, relevant)
    assert (scores.queries, scores.candidates) == (3, 4)
    assert scores.r1 == pytest.approx(1 / 3)
    assert scores.r5 == scores.r10 == 1.0
    # AP: 1; 1/4; (1/2 + 2/4) / 2 = 1/2
    assert scores.map == pytest.approx((1 + 0.25 + 0.5) / 3)


def test_ties_keep_candidate_order() -> None:
    scores = retrieval_scores(np.zeros((1, 3)), np.array([[False, True, False]]))
    assert (scores.r1, scores.map) == (0.0, 0.5)


def test_random_scores_are_exact_expectations() -> None:
    chance = random_scores(np.array([[1, 0, 0, 0], [1, 1, 0, 0]], dtype=bool))
    # one relevant of 4: R@1 1/4; two of 4: 1 - C(2,1)/C(4,1) = 1/2
    assert chance.r1 == pytest.approx((0.25 + 0.5) / 2)
    assert chance.r5 == chance.r10 == 1.0
    assert expected_average_precision(1, 4) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    # brute force over all 4! orderings for r = 2
    from itertools import permutations

    aps = []
    for order in permutations(range(4)):
        hits = np.array([order.index(0), order.index(1)]) + 1
        hits.sort()
        aps.append(np.mean([(i + 1) / rank for i, rank in enumerate(hits)]))
    assert expected_average_precision(2, 4) == pytest.approx(np.mean(aps))


def test_report_groups_twins_and_falls_back_to_random_without_a_tower() -> None:
    records = [
        Record("flower-1", text="A flower.", image=Path("f1.png")),
        Record("flower-2", text="A flower.", image=Path("f2.png")),
        Record("dog", text="A dog.", image=Path("dog.png"), audio=Path("bark.ogg")),
    ]
    items = eval_items(records)
    assert items.keys["text"] == ["A flower.", "A dog."] and items.count("image") == 3
    text = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    image = np.array([[0.1, 0.9], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # f1 looks more like a dog
    report = build_report(items, {"model": {"text": text, "image": image}})
    # "A flower." ranks f2, f1, dog (both relevant first: AP 1); "A dog." ranks dog, f1, f2 (AP 1)
    assert (report["text->image"]["model"].r1, report["text->image"]["model"].map) == (1.0, 1.0)
    # f1 finds "A dog." first (AP 1/2); f2 and dog are right at once
    assert report["image->text"]["model"].r1 == pytest.approx(2 / 3)
    assert report["image->text"]["model"].map == pytest.approx((0.5 + 1 + 1) / 3)
    assert report["audio->text"]["model"] == report["audio->text"]["random"]
    assert "| text -> image | 2 | 3 | model |" in report_markdown(report)
