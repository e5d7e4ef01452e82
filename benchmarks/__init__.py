"""Benchmarks: each module has main() and prints its figure beside its baseline."""
