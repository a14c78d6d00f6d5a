"""The HTTP API (FastAPI)."""

from xmodal.api.app import create_app

__all__ = ["create_app"]
