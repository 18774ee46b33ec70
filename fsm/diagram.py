"""Draw a spec's state machine as Mermaid (renders on GitHub) or Graphviz DOT.

A small emitter of our own rather than ``transitions``' diagram extension: that one needs
pygraphviz, knows nothing of guard text, transition order or error routes, and cannot draw a
run's path. Edges carry their order (``1.``), their name and their guard, because routing is
"first true guard wins" and a reader must see the order. With ``taken`` (a run's transitions),
the states and edges the run went through are highlighted and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import attrs

from fsm.spec.model import Spec, StateDef, TransitionDef

DiagramFormat = Literal["mermaid", "dot"]
DIAGRAM_FORMATS: tuple[DiagramFormat, ...] = ("mermaid", "dot")

ERROR_RULE = "on_error"
"""The ``rule`` of a taken step that followed a state's ``on_error`` route."""


@attrs.frozen
class TakenStep:
    """One transition a run took: where from, where to, and the rule (transition label)."""

    source: str
    target: str
    rule: str | None = None
    event: str | None = None


@attrs.frozen
class Edge:
    """One drawable edge: a spec transition (``index`` ≥ 0) or an error route (``index`` -1)."""

    source: str
    target: str
    index: int
    label: str
    error_route: bool = False


def edges_of(spec: Spec) -> tuple[Edge, ...]:
    """Every edge in the order routing tries them, each state's error route last."""
    edges: list[Edge] = []
    for state in spec.states:
        outgoing = spec.transitions_from(state.name)
        for transition in outgoing:
            edges.append(Edge(state.name, transition.target, transition.index, _label(transition)))
        if state.on_error is not None:
            edges.append(Edge(state.name, state.on_error, -1, ERROR_RULE, error_route=True))
    return tuple(edges)


def _label(transition: TransitionDef) -> str:
    parts = [f"{transition.index + 1}."]
    if transition.event is not None:
        parts.append(f"on {transition.event}")
    if transition.name:
        parts.append(transition.name)
    if transition.guard is not None:
        parts.append(f"[{transition.guard}]")
    return " ".join(parts)


def edge_counts(spec: Spec, taken: Sequence[TakenStep]) -> Counter[Edge]:
    """How often the run took each edge. A step is matched by source, target and rule (the
    transition's label); when the rule is unknown, the first edge between the two states."""
    edges = edges_of(spec)
    labels = {(t.source, t.index): t.label for t in spec.transitions}
    counts: Counter[Edge] = Counter()
    for step in taken:
        candidates = [e for e in edges if e.source == step.source and e.target == step.target]
        if step.event is not None:
            candidates = [
                e for e in candidates if e.error_route or _event_of(spec, e) == step.event
            ] or candidates
        chosen = next(
            (
                e
                for e in candidates
                if step.rule is not None
                and (
                    (e.error_route and step.rule == ERROR_RULE)
                    or labels.get((e.source, e.index)) == step.rule
                )
            ),
            candidates[0] if candidates else None,
        )
        if chosen is not None:
            counts[chosen] += 1
    return counts


def _event_of(spec: Spec, edge: Edge) -> str | None:
    for transition in spec.transitions_from(edge.source):
        if transition.index == edge.index:
            return transition.event
    return None


def render_diagram(
    spec: Spec,
    diagram_format: DiagramFormat = "mermaid",
    taken: Sequence[TakenStep] = (),
    current: str | None = None,
) -> str:
    """The diagram text; ``taken`` highlights a run's path, ``current`` its present state."""
    if diagram_format == "dot":
        return dot(spec, taken, current)
    return mermaid(spec, taken, current)


def _visited(spec: Spec, taken: Sequence[TakenStep]) -> set[str]:
    if not taken:
        return set()
    return {spec.initial} | {step.target for step in taken}


def _taken(count: int) -> str:
    return f" (taken {count}x)" if count else ""


def _mermaid_text(text: str) -> str:
    """Mermaid label text inside double quotes: quotes and angle brackets as entity codes."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _mermaid_node(state: StateDef) -> str:
    label = _mermaid_text(state.name if state.kind != "wait" else f"{state.name} (wait)")
    match state.kind:
        case "final":
            return f'{state.name}(("{label}"))'
        case "wait":
            return f'{state.name}{{{{"{label}"}}}}'
        case "route":
            return f'{state.name}{{"{label}"}}'
        case _:
            agent = f"<br/>agent: {state.agent}" if state.agent else ""
            return f'{state.name}["{label}{agent}"]'


def mermaid(spec: Spec, taken: Sequence[TakenStep] = (), current: str | None = None) -> str:
    """A Mermaid ``flowchart`` (not ``stateDiagram``: only flowcharts can style single edges)."""
    lines = ["flowchart TD", "    __start__(( )) --> " + spec.initial]
    lines.extend(f"    {_mermaid_node(state)}" for state in spec.states)
    counts = edge_counts(spec, taken)
    highlighted: list[int] = []
    for number, edge in enumerate(edges_of(spec), start=1):
        text = edge.label + _taken(counts[edge])
        arrow = "-.->" if edge.error_route else "-->"
        lines.append(f'    {edge.source} {arrow}|"{_mermaid_text(text)}"| {edge.target}')
        if counts[edge]:
            highlighted.append(number)  # link 0 is the start arrow
    visited = _visited(spec, taken)
    if visited:
        lines.append("    classDef visited fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px")
        lines.append("    class " + ",".join(sorted(visited)) + " visited")
    if current is not None:
        lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px")
        lines.append(f"    class {current} current")
    if highlighted:
        indices = ",".join(str(i) for i in highlighted)
        lines.append(f"    linkStyle {indices} stroke:#1d4ed8,stroke-width:3px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_DOT_SHAPES = {"final": "doublecircle", "wait": "hexagon", "route": "diamond", "agent": "box"}


def dot(spec: Spec, taken: Sequence[TakenStep] = (), current: str | None = None) -> str:
    """A Graphviz ``digraph``; render with ``dot -Tsvg``."""
    visited = _visited(spec, taken)
    lines = [
        f'digraph "{_dot_text(spec.workflow)}" {{',
        "    rankdir=TB;",
        '    node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];',
        '    __start__ [shape=point, label=""];',
        f'    __start__ -> "{_dot_text(spec.initial)}";',
    ]
    for state in spec.states:
        attributes = [f"shape={_DOT_SHAPES[state.kind]}"]
        agent = f"\\nagent: {_dot_text(state.agent)}" if state.agent else ""
        attributes.append(f'label="{_dot_text(state.name)}{agent}"')
        if state.name == current:
            attributes.append('style=filled, fillcolor="#fde68a"')
        elif state.name in visited:
            attributes.append('style=filled, fillcolor="#dbeafe"')
        lines.append(f'    "{_dot_text(state.name)}" [{", ".join(attributes)}];')
    counts = edge_counts(spec, taken)
    for edge in edges_of(spec):
        text = edge.label + _taken(counts[edge])
        attributes = [f'label="{_dot_text(text)}"']
        if edge.error_route:
            attributes.append("style=dashed")
        if counts[edge]:
            attributes.append('color="#1d4ed8", penwidth=2.5')
        source, target = _dot_text(edge.source), _dot_text(edge.target)
        lines.append(f'    "{source}" -> "{target}" [{", ".join(attributes)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
