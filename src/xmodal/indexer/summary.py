"""What a job did, counted as it goes (an API job shows it live)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class JobSummary:
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    duplicates: int = 0
    pruned: int = 0
    updated: int = 0  # unchanged files whose manifest entries gave them a new id or metadata
    restored: int = 0  # items whose lost vectors were re-embedded under their ids
    failed: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    duplicate_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, the path whose content it repeats)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # folders and links left out, and why

    @property
    def items_per_second(self) -> float:
        seen = self.indexed + self.unchanged + self.updated + self.moved + self.duplicates + self.failed
        return seen / self.elapsed if self.elapsed else 0.0

    @property
    def all_failed(self) -> bool:
        """Sources were given and not one could be used: the job did nothing (the CLI exits 1)."""
        return self.failed > 0 and not (self.indexed or self.unchanged or self.updated or self.moved or self.duplicates)


@dataclass
class JobProgress:
    """A job as it goes: `scanning` (sources counted as they are found), `loading` (the model),
    then `indexing` (`processed` of `total`)."""

    total: int | None = None  # sources to settle; None until the scan is done
    processed: int = 0
    found: int = 0
    stage: str = "scanning"
    summary: JobSummary = field(default_factory=JobSummary)
