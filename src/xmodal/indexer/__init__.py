"""Indexing: sources (directories, manifests) -> decoded media -> embeddings -> store."""

from xmodal.indexer.job import IndexJob, JobProgress, JobSummary
from xmodal.indexer.sources import Source, SourceProblem, admitted, collect_sources

__all__ = ["IndexJob", "JobProgress", "JobSummary", "Source", "SourceProblem", "admitted", "collect_sources"]
