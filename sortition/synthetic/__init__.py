"""Synthetic pools and registries for tests and benchmarks."""
