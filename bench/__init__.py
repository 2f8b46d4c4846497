"""Benchmark tooling: ``python -m bench.generate`` fills a new database with synthetic data."""
