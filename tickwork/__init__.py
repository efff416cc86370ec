"""Tickwork: a self-hosted workflow scheduler."""

__version__ = "0.1.0"
