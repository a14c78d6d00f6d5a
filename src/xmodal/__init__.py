"""xmodal: any-to-any retrieval over images, text and audio in one embedding space."""

__version__ = "0.1.0"
