"""Test helpers for workflows: hypothesis strategies generating contract-valid data, routing
cases per state, the routing checks behind ``fsm check``, and a one-line pytest helper."""

from fsm.testing.contexts import RoutingCase, contexts, outputs
from fsm.testing.pytest_helpers import assert_routing_ok
from fsm.testing.report import Counterexample, Finding, RoutingReport
from fsm.testing.routing import check_routing
from fsm.testing.strategies import EACH, Path, values

__all__ = [
    "Counterexample",
    "EACH",
    "Finding",
    "Path",
    "RoutingCase",
    "RoutingReport",
    "assert_routing_ok",
    "check_routing",
    "contexts",
    "outputs",
    "values",
]
