"""Benchmarks: side-by-side runs of sortition and peer tools."""
