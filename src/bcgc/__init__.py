"""bcgc — block coordinate gradient coding (see SPEC §1–§8)."""
__version__ = "0.1.0"
