"""Benchmarks: each prints a table and writes it, with the command, to ``results/``."""
