"""Glacier benchmarks. ``python -m benchmarks`` runs them all; ``python -m benchmarks.<name>`` one.

Each benchmark runs its measured work in fresh subprocesses and prints its figures; none of
them is a test (no timing is asserted anywhere).
"""
