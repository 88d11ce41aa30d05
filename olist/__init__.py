"""Olist data & ML platform: shared settings, the CLI, the warehouse interface and helpers."""

__version__ = "0.1.0"
