"""Text -> item recall for items with parts: late fusion, early fusion and each part alone, in one run.

The items are built from a concepts manifest (`samples/concepts.jsonl`: name, concept, image, audio,
caption), restricted to held-out concepts and to records having every part, and indexed into a fresh
store through the product's own index job; the queries run through the product's searcher, so the
figures are what `xmodal search --fusion ...` gives. Two settings:

- `caption`: parts are picture, sound and caption; the query is the concept's name ("vacuum cleaner").
- `media`: parts are picture and sound only (an unlabelled library); the query is the caption.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer

KS = (1, 5, 10)
# (row name, Query options): how each row scores an item
RUNS: dict[str, dict[str, Any]] = {
    "late fusion (sum)": {"fusion": "late"},
    "late fusion (max)": {"fusion": "late", "combine": "max"},
    "early fusion": {"fusion": "early"},
    "picture alone": {"fusion": "late", "modalities": ["image"]},
    "sound alone": {"fusion": "late", "modalities": ["audio"]},
    "caption alone": {"fusion": "late", "modalities": ["text"]},
}


def eval_records(manifest: Path, holdout: set[str] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records with picture, sound and caption: the queries' items; the other records: distractor items),
    of held-out concepts when `holdout` is given."""
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [row for row in rows if holdout is None or row.get("concept") in holdout]
    full = [row for row in rows if row.get("image") and row.get("audio") and row.get("caption")]
    return full, [row for row in rows if row not in full]


def item_lines(records: list[dict[str, Any]], base: Path, with_caption: bool) -> list[dict[str, Any]]:
    lines = []
    for row in records:
        line: dict[str, Any] = {"id": row["name"]}
        line.update({kind: str(base / row[kind]) for kind in ("image", "audio") if row.get(kind)})
        if with_caption and row.get("caption"):
            line["text"] = row["caption"]
        lines.append(line)
    return lines


def query_of(row: dict[str, Any], with_caption: bool) -> str:
    """The concept's name when the caption is a part (else the caption would find itself), else the caption."""
    return row["name"].replace("-", " ") if with_caption else row["caption"]


def recall_table(engine: Any, records: list[dict[str, Any]], with_caption: bool) -> dict[str, dict[str, float]]:
    from xmodal.search import Part, Query

    table = {}
    for name, options in RUNS.items():
        if name == "caption alone" and not with_caption:
            continue
        ranks = []
        for row in records:
            hits = engine.search(Query([Part(text=query_of(row, with_caption))], k=max(KS), **options)).hits
            found = [hit.external_id for hit in hits]
            ranks.append(found.index(row["name"]) + 1 if row["name"] in found else None)
        table[name] = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in KS}
    return table


def run(
    manifest: Path, holdout: set[str] | None, model: str | None, store_root: Path, encoder: Any = None
) -> dict[str, Any]:
    """Index both settings into stores under `store_root` and score them (`encoder`: a loaded one, for tests)."""
    from xmodal.config import Settings
    from xmodal.engine import Engine

    records, distractors = eval_records(manifest, holdout)
    if not records:
        raise typer.BadParameter(f"{manifest}: no record with picture, sound and caption among the held-out concepts")
    report: dict[str, Any] = {"queries": len(records), "items": len(records) + len(distractors), "settings": {}}
    for setting, with_caption in (("caption", True), ("media", False)):
        folder = store_root / setting
        folder.mkdir(parents=True, exist_ok=True)
        items = folder / "items.jsonl"
        lines = item_lines(records + distractors, manifest.parent.resolve(), with_caption)
        items.write_text("".join(json.dumps(line) + "\n" for line in lines))
        settings = Settings(store=folder / "store", model=model, workers=0)
        with Engine(settings, encoder=encoder) as engine:
            summary = engine.index([items])
            if summary.failed:
                raise typer.BadParameter(f"{summary.failed} parts failed to index: {summary.failures[:3]}")
            report["settings"][setting] = recall_table(engine, records, with_caption)
        report["model"] = settings.model or (encoder.info.spec if encoder is not None else "xmodal-base")
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = []
    for setting, table in report["settings"].items():
        what = "picture + sound + caption; query: the concept's name" if setting == "caption" else (
            "picture + sound; query: the caption"
        )
        counts = f"{report['queries']} queries, {report['items']} items"
        lines += [f"**{what}** ({counts})", "", "| scoring | R@1 | R@5 | R@10 |", "|---|---|---|---|"]
        lines += [f"| {name} | " + " | ".join(f"{row[f'R@{k}']:.2f}" for k in KS) + " |" for name, row in table.items()]
        lines.append("")
    return "\n".join(lines)


def evaluate_items(
    manifest: Path = typer.Argument(..., help="concepts JSONL: name, concept, image, audio, caption (paths relative)"),
    holdout: Optional[Path] = typer.Option(None, "--holdout", help="only these concepts (one per line)"),
    model: Optional[str] = typer.Option(None, "--model", help="model to index with [default: xmodal-base]"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the report as JSON here too"),
) -> None:
    """Text -> item recall of items with parts: late and early fusion and each part alone, in one run."""
    import torch

    torch.set_num_threads(1)
    concepts = None if holdout is None else {line.strip() for line in holdout.read_text().splitlines() if line.strip()}
    with tempfile.TemporaryDirectory(prefix="xmodal-fusion-eval-") as folder:
        report = run(manifest, concepts, model, Path(folder))
    typer.echo(markdown(report))
    if out is not None:
        out.write_text(json.dumps(report, indent=2) + "\n")
