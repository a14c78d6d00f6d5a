"""Items with parts from the command line: --pair-by-stem, fusion flags, fusion fields in --queries."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import solid
from tests.e2e.test_cli import xmodal


def test_pair_by_stem_then_search_with_fusion(tmp_path: Path, tiny_clip_spec: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    solid(corpus / "dog.png", (250, 10, 10))
    (corpus / "dog.txt").write_text("A red dog.")
    solid(corpus / "cat.png", (10, 10, 250))
    (corpus / "cat.txt").write_text("A blue cat.")
    store = tmp_path / "store"
    first = xmodal("index", "--store", store, "--model", tiny_clip_spec, "--pair-by-stem", corpus, cwd=tmp_path)
    assert first.returncode == 0 and "indexed 2, unchanged 0, failed 0" in first.stdout, first.stderr
    found = xmodal("search", "--store", store, "--text", "A red dog.", "--json", "--fusion", "early",
                   "--weight", "text=2", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert [hit["external_id"] for hit in results] == [str(corpus / "dog"), str(corpus / "cat")]
    assert {part["modality"] for part in results[0]["parts"]} == {"image", "text"} and results[0]["best_part"]
    table = xmodal("search", "--store", store, "--text", "A red dog.", cwd=tmp_path)
    assert table.returncode == 0 and "best text: A red dog." in table.stdout, table.stdout
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        json.dumps({"qid": "a", "text": "A blue cat.", "fusion": "late", "combine": "max", "weights": {"image": 0}})
        + "\n" + json.dumps({"qid": "b", "text": "x", "fusion": "middle"}) + "\n"
    )
    batch = [json.loads(line) for line in xmodal("search", "--store", store, "--queries", queries, cwd=tmp_path)
             .stdout.splitlines()]
    assert batch[0]["results"][0]["external_id"] == str(corpus / "cat")
    assert batch[0]["results"][0]["score"] > 0.99  # the caption alone, by max, with the picture weighed 0
    assert "fusion" in batch[1]["error"]
    bad = xmodal("search", "--store", store, "--text", "x", "--weight", "smell=1", cwd=tmp_path)
    assert bad.returncode == 2 and "smell" in bad.stderr and "Traceback" not in bad.stderr
