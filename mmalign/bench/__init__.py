"""Benchmarks run as commands (`mmalign bench ...`), never as timed tests."""
