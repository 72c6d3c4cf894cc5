"""Deterministic synthetic data: a simulated industry (`generate`) and its landing folder
(`write_landing`), for the bundled sample, tests and benchmarks."""

from generator.landing import write_landing
from generator.population import generate

__all__ = ["generate", "write_landing"]
