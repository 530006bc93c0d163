"""Benchmark sets (importers) and the benchmark runner."""
