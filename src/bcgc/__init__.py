"""bcgc — block coordinate gradient coding: designs, codes, simulator and distributed runtime (docs/model.md)."""

__version__ = "0.1.0"
