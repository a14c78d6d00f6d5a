"""Search: queries of any modality against a store's vectors, hydrated with metadata."""

from xmodal.search.queries import BatchQuery, QueryOptions
from xmodal.search.searcher import Hit, ItemNotFound, Searcher, display_path

__all__ = ["BatchQuery", "Hit", "ItemNotFound", "QueryOptions", "Searcher", "display_path"]
