"""bcgc — block coordinate gradient coding (see docs/model.md–§8)."""
__version__ = "0.1.0"
