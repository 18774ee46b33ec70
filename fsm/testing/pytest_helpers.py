"""One-line routing tests for users' own suites (and the generated ``test_routing.py``).

    def test_routing():
        assert_routing_ok("specs/support_triage.yaml")

Plain ``AssertionError`` with the full report (counterexamples included), so it works under
pytest, unittest or a bare script; pytest hides this frame from the traceback.
"""

from __future__ import annotations

from fsm.testing.contexts import SpecLike
from fsm.testing.report import RoutingReport
from fsm.testing.routing import DEFAULT_EXAMPLES, DEFAULT_RUNS, check_routing


def assert_routing_ok(
    spec: SpecLike,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    strict: bool = False,
    runs: int = DEFAULT_RUNS,
) -> RoutingReport:
    """Check ``spec``'s routing; raise ``AssertionError`` with the report when a property
    fails (warnings too under ``strict``). Returns the report for further assertions."""
    __tracebackhide__ = True
    report = check_routing(spec, examples=examples, seed=seed, strict=strict, runs=runs)
    if not report.ok:
        raise AssertionError("routing check failed:\n" + report.render())
    return report
