"""Search: queries of any modality against a store's vectors, hydrated with metadata."""

from xmodal.search.composite import Page, Part, Query, QueryError
from xmodal.search.queries import BatchQuery, QueryOptions, QueryPart, SearchMode
from xmodal.search.searcher import Hit, ItemNotFound, Searcher, display_path
from xmodal.store.filters import Filters

__all__ = [
    "BatchQuery", "Filters", "Hit", "ItemNotFound", "Page", "Part", "Query", "QueryError", "QueryOptions", "QueryPart",
    "SearchMode", "Searcher", "display_path",
]
