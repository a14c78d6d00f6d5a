"""Search: queries of any modality against a store's vectors, hydrated with metadata."""

from xmodal.search.composite import Part, Query, QueryError
from xmodal.search.queries import BatchQuery, QueryOptions, QueryPart
from xmodal.search.results import Hit, Page, SearchMode, display_path
from xmodal.search.searcher import ItemNotFound, Searcher
from xmodal.store.filters import Filters

__all__ = [
    "BatchQuery", "Filters", "Hit", "ItemNotFound", "Page", "Part", "Query", "QueryError", "QueryOptions", "QueryPart",
    "SearchMode", "Searcher", "display_path",
]
