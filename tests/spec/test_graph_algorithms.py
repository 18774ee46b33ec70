"""The graph algorithms the checks build on, against brute force on random graphs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.spec.graph import cyclic_states, distances_from, reachable_from, strongly_connected

NODES = [f"s{i}" for i in range(8)]
graphs = st.dictionaries(
    st.sampled_from(NODES), st.lists(st.sampled_from(NODES), max_size=4), max_size=8
).map(lambda partial: {node: partial.get(node, []) for node in NODES})


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_components_are_the_mutually_reachable_classes(graph: dict[str, list[str]]) -> None:
    reach = {node: reachable_from(graph, node) for node in graph}
    expected = {frozenset(n for n in graph if a in reach[n] and n in reach[a]) for a in graph}
    found = strongly_connected(graph)
    assert {frozenset(c) for c in found} == expected
    assert sum(len(c) for c in found) == len(graph)  # a partition
    on_cycle = {n for n in graph if any(n in reach[m] for m in graph[n])}
    assert cyclic_states(graph) == on_cycle


def test_a_long_chain_meets_no_recursion_limit() -> None:
    chain = {f"s{i}": [f"s{i + 1}"] for i in range(5000)} | {"s5000": ["s0"]}
    (component,) = strongly_connected(chain)
    assert len(component) == 5001


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_distances_are_breadth_first(graph: dict[str, list[str]]) -> None:
    distance = distances_from(graph, "s0")
    assert set(distance) == reachable_from(graph, "s0")
    assert distance["s0"] == 0
    for node, steps in distance.items():
        if node != "s0":
            nearest = min(distance[p] for p in graph if node in graph[p] and p in distance)
            assert steps == nearest + 1
