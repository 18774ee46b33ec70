"""What ``check_routing`` found, as frozen values that print for people and serialise for tools.

A ``Finding`` is one violated property with where it is in the spec and, when it is about a
concrete input, a ``Counterexample``: the state, the context as JSON, the counters, and each
guard's value — "which transitions fired or why none did".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

import attrs

from fsm.diagnostics import Diagnostic, Severity, SourceSpan

FindingKind = Literal[
    "incomplete",  # no transition fires for some valid context
    "shadowed",  # a guarded transition never fires: earlier ones always win, or its guard is dead
    "nondeterministic",  # same input, different route (twice, after a round trip, runtime)
    "guard-error",  # a guard raised on a contract-valid context
    "unreachable",  # a state is never entered once dead transitions are discounted
    "unbounded",  # a cycle no counter caps: only the step limit ends it
    "run-invariant",  # a whole run with fake agents broke an invariant
]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "incomplete",
    "shadowed",
    "nondeterministic",
    "guard-error",
    "unreachable",
    "unbounded",
    "run-invariant",
)


GUARD_ERROR_HINT = (
    "a guard that raises fails the run in its state: make it evaluate for every context a run "
    "can hold (narrow optional fields with `is not None`; give an int that meets a float"
    " `min` and `max`, so arithmetic stays within float range)"
)
"""The hint of every ``guard-error`` finding, whichever phase found it."""


@attrs.frozen
class Counterexample:
    """A minimal (shrunk) input on which a property fails, and how each guard evaluated."""

    state: str
    event: str | None
    context: Mapping[str, object]
    steps: int
    visits: Mapping[str, int]
    guards: tuple[str, ...]

    def render(self) -> str:
        where = f"state '{self.state}'" + (f" on event '{self.event}'" if self.event else "")
        visits = {name: count for name, count in self.visits.items() if count}
        lines = [
            f"    {where}, steps={self.steps}, visits={json.dumps(visits, sort_keys=True)}",
            "    context: " + json.dumps(self.context, sort_keys=True, ensure_ascii=False),
        ]
        lines.extend(f"      {guard}" for guard in self.guards)
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "event": self.event,
            "context": dict(self.context),
            "steps": self.steps,
            "visits": dict(self.visits),
            "guards": list(self.guards),
        }


@attrs.frozen
class Finding:
    kind: FindingKind
    severity: Severity
    message: str
    span: SourceSpan
    hint: str | None = None
    state: str | None = None
    event: str | None = None
    counterexample: Counterexample | None = None

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.span, self.message, f"routing-{self.kind}", self.hint, self.severity)

    def render(self, source: str | None = None) -> str:
        from fsm.diagnostics import render  # noqa: PLC0415  # keeps the import list readable

        text = render(self.diagnostic(), source)
        if self.counterexample is not None:
            text += "\n  counterexample:\n" + self.counterexample.render()
        return text

    def to_json(self) -> dict[str, object]:
        data = self.diagnostic().to_json()
        data["kind"] = self.kind
        data["state"] = self.state
        data["event"] = self.event
        data["counterexample"] = self.counterexample.to_json() if self.counterexample else None
        return data


@attrs.frozen
class PointSummary:
    """How often each transition of one routing point fired over the examples tried."""

    state: str
    event: str | None
    examples: int
    fired: Mapping[str, int]
    sampled: bool = False
    """Its boundary grid was too large to sweep whole: gaps and dead guards were searched
    for, not ruled out."""

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "event": self.event,
            "examples": self.examples,
            "fired": dict(self.fired),
            "sampled": self.sampled,
        }


@attrs.frozen
class RoutingReport:
    """Everything ``check_routing`` established about one spec."""

    path: str
    workflow: str
    seed: int
    examples: int
    strict: bool
    findings: tuple[Finding, ...]
    points: tuple[PointSummary, ...]
    runs: int
    seconds: float
    source: str | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when no property fails (warnings count as failures under ``strict``)."""
        return not self.errors

    def kinds(self) -> set[FindingKind]:
        return {f.kind for f in self.findings}

    def render(self) -> str:
        lines = [finding.render(self.source) for finding in self.findings]
        status = "ok" if self.ok else "FAILED"
        counts = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        tried = sum(p.examples for p in self.points)
        sampled = sum(p.sampled for p in self.points)
        points = f"{len(self.points)} routing points"
        if sampled:
            points += f" ({sampled} too large to sweep whole, sampled)"
        lines.append(
            f"{self.path}: routing {status}: {counts}; {points}, "
            f"{tried} contexts, {self.runs} runs, seed {self.seed}, {self.seconds:.1f} s"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "workflow": self.workflow,
            "ok": self.ok,
            "strict": self.strict,
            "seed": self.seed,
            "examples": self.examples,
            "runs": self.runs,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in self.findings],
            "points": [p.to_json() for p in self.points],
        }
