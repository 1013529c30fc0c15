"""Benchmark of the audit against a fleet of lab hosts: `python bench/run.py --help`."""
