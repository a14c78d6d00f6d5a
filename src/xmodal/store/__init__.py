"""Everything that persists: metadata behind SQLAlchemy, vectors behind a backend, one store directory."""

from xmodal.store.records import StoreError, StoreNotFound, describe_model
from xmodal.store.schema import Item
from xmodal.store.store import Store

__all__ = ["Item", "Store", "StoreError", "StoreNotFound", "describe_model"]
