"""Indexing, in stages: sources (directories, manifests) -> plan (new, unchanged, moved, duplicate,
gone) -> embed (decode + encode, behind a runner) -> commit (the store's single writer)."""

from xmodal.indexer.embed import Embedded, EmbedRunner, EmbedTask, InlineRunner, ProcessRunner
from xmodal.indexer.job import IndexJob
from xmodal.indexer.sources import (
    ItemSource,
    Skipped,
    Source,
    SourceProblem,
    admitted,
    check_paths,
    collect_sources,
)
from xmodal.indexer.summary import JobProgress, JobSummary

__all__ = [
    "EmbedRunner", "EmbedTask", "Embedded", "IndexJob", "InlineRunner", "JobProgress", "JobSummary", "ProcessRunner",
    "ItemSource", "Skipped", "Source", "SourceProblem", "admitted", "check_paths", "collect_sources",
]
