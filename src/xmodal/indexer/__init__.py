"""Indexing: sources (directories, manifests) -> decoded media -> embeddings -> store."""

from xmodal.indexer.job import IndexJob, JobSummary
from xmodal.indexer.sources import Source, SourceProblem, collect_sources

__all__ = ["IndexJob", "JobSummary", "Source", "SourceProblem", "collect_sources"]
