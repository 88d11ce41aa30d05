"""Benchmarks: wall time and peak memory per stage. Figures are printed, never asserted."""
