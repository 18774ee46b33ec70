"""Benchmarks: measurements printed as tables, never run as timed tests."""
