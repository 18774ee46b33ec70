"""Test helpers for workflows: hypothesis strategies generating contract-valid data."""

from fsm.testing.strategies import EACH, Path, values

__all__ = ["EACH", "Path", "values"]
