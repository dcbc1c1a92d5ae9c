"""Bundled example instances (data/ in the source tree)."""
