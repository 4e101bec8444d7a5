"""Benchmarks of liverecord: see benchmarks/README.md (one command per figure)."""
