"""Test helpers shared by the test suites and benchmarks (ports, media clips, a hook receiver)."""
