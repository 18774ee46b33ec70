"""Graph rules over a spec's states and transitions: reachability, dead ends, final states.

Each ``check_*`` is a pure function returning every diagnostic for its rule, so ``validate`` can
report all problems of a spec at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from fsm.diagnostics import Diagnostic
from fsm.spec.model import Spec


def successors(spec: Spec) -> dict[str, list[str]]:
    """Every state's possible next states: its transitions' targets and its error route."""
    graph: dict[str, list[str]] = {state.name: [] for state in spec.states}
    for transition in spec.transitions:
        if transition.source in graph and transition.target in graph:
            graph[transition.source].append(transition.target)
    for state in spec.states:
        if state.on_error is not None and state.on_error in graph:
            graph[state.name].append(state.on_error)
    return graph


def reachable_from(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The strongly connected components of ``graph`` (Tarjan's algorithm, iterative: a chain
    of thousands of states must not meet Python's recursion limit)."""
    successors = {node: list(targets) for node, targets in graph.items()}
    for targets in list(successors.values()):
        for target in targets:
            successors.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(successors):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, pending = work[-1]
            for nxt in pending:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(successors[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def cyclic_states(graph: Mapping[str, Iterable[str]]) -> set[str]:
    """States on some cycle: only these can be entered more than once."""
    cyclic: set[str] = set()
    for component in strongly_connected(graph):
        if len(component) > 1:
            cyclic |= component
        else:
            (node,) = component
            if node in graph.get(node, ()):
                cyclic.add(node)
    return cyclic


def distances_from(graph: Mapping[str, Iterable[str]], start: str) -> dict[str, int]:
    """The fewest transitions from ``start`` to each state it reaches."""
    distance = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in graph.get(current, ()):
            if nxt not in distance:
                distance[nxt] = distance[current] + 1
                queue.append(nxt)
    return distance


def shortest_path(graph: Mapping[str, Iterable[str]], start: str, goal: str) -> list[str] | None:
    """One shortest path of states from ``start`` to ``goal``, for error messages."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            path: list[str] = []
            node: str | None = current
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for nxt in graph.get(current, ()):
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    return None


def check_final_states_have_no_transitions(spec: Spec) -> list[Diagnostic]:
    finals = {state.name for state in spec.states if state.final}
    return [
        Diagnostic(
            t.span,
            f"final state '{t.source}' cannot have outgoing transitions",
            "final-outgoing",
            hint="remove the transition, or drop 'final: true' from the state",
        )
        for t in spec.transitions
        if t.source in finals
    ]


def check_has_final_state(spec: Spec) -> list[Diagnostic]:
    if any(state.final for state in spec.states) or not spec.states:
        return []
    return [
        Diagnostic(
            spec.span,
            "the workflow has no final state, so no run can ever complete",
            "no-final-state",
            hint="mark at least one state with 'final: true'",
        )
    ]


def check_states_have_exits(spec: Spec) -> list[Diagnostic]:
    """A non-final state without any way out would strand every run that enters it.

    ``on_error`` is no way out here: it is taken only when the agent fails, so an agent state
    with ``on_error`` and no transitions fails every run whose agent succeeds.
    """
    sources = {t.source for t in spec.transitions}
    problems: list[Diagnostic] = []
    for state in spec.states:
        if state.final or state.name in sources:
            continue
        hint = f"add transitions under 'transitions: {state.name}:' or mark it 'final: true'"
        if state.on_error is not None:
            hint = (
                f"'on_error' is taken only when the agent fails; add a transition under "
                f"'transitions: {state.name}:' for when it succeeds"
            )
        problems.append(
            Diagnostic(
                state.span,
                f"state '{state.name}' has no outgoing transitions and is not final",
                "dead-end",
                hint=hint,
            )
        )
    return problems


def check_reachability(spec: Spec) -> list[Diagnostic]:
    if spec.state(spec.initial) is None:
        return []
    reached = reachable_from(successors(spec), spec.initial)
    return [
        Diagnostic(
            state.span,
            f"state '{state.name}' is unreachable from the initial state '{spec.initial}'",
            "unreachable-state",
            hint="add a transition into it, or remove it",
        )
        for state in spec.states
        if state.name not in reached
    ]


def check_final_reachable(spec: Spec) -> list[Diagnostic]:
    """From every state some final state must be reachable, else runs can loop forever."""
    graph = successors(spec)
    finals = {state.name for state in spec.states if state.final}
    if not finals:
        return []
    reverse: dict[str, list[str]] = {name: [] for name in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    can_finish: set[str] = set()
    for final in finals:
        can_finish |= reachable_from(reverse, final)
    return [
        Diagnostic(
            state.span,
            f"no final state can be reached from state '{state.name}'",
            "trap-state",
            hint="every state needs a path to a final state; add a transition that leaves the loop",
        )
        for state in spec.states
        if state.name not in can_finish and graph[state.name]
    ]
