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
    failed: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    duplicate_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, the path whose content it repeats)

    @property
    def items_per_second(self) -> float:
        seen = self.indexed + self.unchanged + self.moved + self.duplicates + self.failed
        return seen / self.elapsed if self.elapsed else 0.0


@dataclass
class JobProgress:
    total: int  # sources to settle
    processed: int = 0
    summary: JobSummary = field(default_factory=JobSummary)
