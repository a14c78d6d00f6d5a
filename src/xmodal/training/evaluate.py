"""Cross-modal retrieval evaluation of embeddings, side by side with baselines.

Every distinct item of the evaluated records is a candidate (texts are distinct strings, media
distinct files); an item is relevant to a query when they share a group (`Record.group`: the
caption key), so twins ("A flower." on six stamps) all count as right answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from xmodal.training.manifest import Record
from xmodal.training.metrics import Scores, random_scores, retrieval_scores

DIRECTIONS = (
    ("text", "image"),
    ("image", "text"),
    ("audio", "text"),
    ("text", "audio"),
    ("image", "audio"),
    ("audio", "image"),
)
RANDOM = "random"


@dataclass
class EvalItems:
    keys: dict[str, list] = field(default_factory=dict)  # modality -> texts or paths
    groups: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    def count(self, modality: str) -> int:
        return len(self.keys.get(modality, ()))


def eval_items(records: Sequence[Record]) -> EvalItems:
    found: dict[str, dict[object, set[str]]] = {"text": {}, "image": {}, "audio": {}}
    for record in records:
        for modality, key in (("text", record.text), ("image", record.image), ("audio", record.audio)):
            if key:
                found[modality].setdefault(key, set()).add(record.group)
    items = EvalItems()
    for modality, groups in found.items():
        if groups:
            items.keys[modality] = list(groups)
            items.groups[modality] = [frozenset(g) for g in groups.values()]
    return items


def relevance(query_groups: Sequence[frozenset[str]], candidate_groups: Sequence[frozenset[str]]) -> np.ndarray:
    return np.array([[bool(q & c) for c in candidate_groups] for q in query_groups], dtype=bool).reshape(
        len(query_groups), len(candidate_groups)
    )


Embeddings = Mapping[str, np.ndarray]  # modality -> [items, dim], rows of unreadable items all NaN


def score_system(items: EvalItems, embeddings: Embeddings) -> dict[str, Scores]:
    """Scores for every direction both of whose modalities this system embeds."""
    out = {}
    for source, target in DIRECTIONS:
        if source not in embeddings or target not in embeddings or not items.count(source) or not items.count(target):
            continue
        queries, candidates = embeddings[source], embeddings[target]
        q_ok, c_ok = ~np.isnan(queries).any(axis=1), ~np.isnan(candidates).any(axis=1)
        rel = relevance(_select(items.groups[source], q_ok), _select(items.groups[target], c_ok))
        out[f"{source}->{target}"] = retrieval_scores(queries[q_ok] @ candidates[c_ok].T, rel)
    return out


def random_system(items: EvalItems, readable: Callable[[str], np.ndarray] | None = None) -> dict[str, Scores]:
    out = {}
    for source, target in DIRECTIONS:
        if items.count(source) and items.count(target):
            q_ok = readable(source) if readable else np.ones(items.count(source), bool)
            c_ok = readable(target) if readable else np.ones(items.count(target), bool)
            rel = relevance(_select(items.groups[source], q_ok), _select(items.groups[target], c_ok))
            out[f"{source}->{target}"] = random_scores(rel)
    return out


def _select(values: Sequence, mask: np.ndarray) -> list:
    return [value for value, keep in zip(values, mask) if keep]


Report = dict[str, dict[str, Scores]]  # direction -> system -> scores


def build_report(items: EvalItems, systems: Mapping[str, Embeddings]) -> Report:
    """Random first, then the systems in order; a system without a tower for a modality falls back
    to random there (no link at all is what chance gives)."""
    readable = _readable_everywhere(items, systems)
    report: Report = {}
    chance = random_system(items, readable)
    for direction, scores in chance.items():
        report[direction] = {RANDOM: scores}
    for name, embeddings in systems.items():
        scored = score_system(items, embeddings)
        for direction in report:
            report[direction][name] = scored.get(direction, chance[direction])
    return report


def _readable_everywhere(items: EvalItems, systems: Mapping[str, Embeddings]) -> Callable[[str], np.ndarray]:
    def readable(modality: str) -> np.ndarray:
        mask = np.ones(items.count(modality), bool)
        for embeddings in systems.values():
            if modality in embeddings:
                mask &= ~np.isnan(embeddings[modality]).any(axis=1)
        return mask

    return readable


def fell_back(report: Report, systems: Mapping[str, Embeddings]) -> dict[str, list[str]]:
    """Which systems were scored as random in which directions (no tower for that modality)."""
    out: dict[str, list[str]] = {}
    for name, embeddings in systems.items():
        out[name] = [direction for direction in report if any(m not in embeddings for m in direction.split("->"))]
    return out


def report_json(report: Report, context: Mapping[str, object]) -> str:
    body = {
        direction: {system: scores.as_dict() for system, scores in row.items()} for direction, row in report.items()
    }
    return json.dumps({**context, "directions": body}, indent=2)


def report_markdown(report: Report, notes: Mapping[str, list[str]] | None = None) -> str:
    lines = [
        "| direction | queries | candidates | system | R@1 | R@5 | R@10 | mAP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for direction, row in report.items():
        for system, scores in row.items():
            label = f"{system} (= random: no link)" if notes and direction in notes.get(system, ()) else system
            lines.append(
                f"| {direction.replace('->', ' -> ')} | {scores.queries} | {scores.candidates} | {label} | "
                f"{scores.r1:.3f} | {scores.r5:.3f} | {scores.r10:.3f} | {scores.map:.3f} |"
            )
    return "\n".join(lines) + "\n"


def write_report(
    report: Report,
    out_dir: Path,
    name: str,
    context: Mapping[str, object],
    notes: Mapping[str, list[str]] | None = None,
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(report_json(report, context) + "\n", encoding="utf-8")
    md_path.write_text(report_markdown(report, notes), encoding="utf-8")
    return json_path, md_path
