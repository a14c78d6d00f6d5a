"""Metadata (SQLite via SQLAlchemy) and vectors (FAISS) for one store directory."""

from xmodal.store.schema import Item
from xmodal.store.store import Store, StoreError, StoreNotFound, describe_model

__all__ = ["Item", "Store", "StoreError", "StoreNotFound", "describe_model"]
