"""Context flow: optional fields count as present only where every path has written them."""

from __future__ import annotations

import textwrap

import pytest

from fsm.errors import SpecError
from fsm.spec.validate import checked_from_text

HEADER = """
workflow: flow_case
contracts:
  Draft: {body: str, notes: str?}
  Review: {score: float}
  Approval: {editor: str}
context:
  draft: Draft?
  review: Review?
  approval: Approval?
agents:
  writer: {output: Draft}
  reviewer: {input: {draft: draft}, output: Review}
  finisher: {input: {review: review}, output: Draft}
"""


def spec_text(body: str) -> str:
    return textwrap.dedent(HEADER) + textwrap.dedent(body)


def codes_and_messages(body: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        checked_from_text(spec_text(body), "flow.yaml")
    return [(d.code, d.message) for d in caught.value.diagnostics]


def test_field_written_on_every_path_is_present_for_guards_and_agents() -> None:
    """After the writer and reviewer ran, guards and inputs read draft/review without narrowing."""
    checked = checked_from_text(
        spec_text("""
        states:
          drafting: {agent: writer, writes: draft}
          reviewing: {agent: reviewer, writes: review}
          done: {final: true}
        initial: drafting
        transitions:
          drafting: [{to: reviewing}]
          reviewing:
            - {to: done, when: "review.score >= 0.8 and len(draft.body) > 3"}
            - {to: drafting}
        """),
        "flow.yaml",
    )
    assert checked.assigned_on_entry["reviewing"] == frozenset({"draft"})
    assert checked.assigned_on_entry["drafting"] == frozenset()
    reviewer_input = checked.agent_inputs["reviewer"]
    assert reviewer_input.name == "ReviewerInput"
    assert reviewer_input.fields[0].type.__class__.__name__ == "RecordType"


def test_field_missing_on_one_branch_names_that_path() -> None:
    """A diamond where one branch skips the writer: the error names the skipping path."""
    problems = codes_and_messages("""
        states:
          triage: {}
          drafting: {agent: writer, writes: draft}
          shortcut: {}
          reviewing: {agent: reviewer, writes: review}
          done: {final: true}
        initial: triage
        transitions:
          triage:
            - {to: drafting, when: "steps < 1"}
            - {to: shortcut}
          drafting: [{to: reviewing}]
          shortcut: [{to: reviewing}]
          reviewing: [{to: done}]
        """)
    assert problems == [
        (
            "context-flow",
            "agent 'reviewer' reads 'draft' in state 'reviewing', but 'draft' is not assigned "
            "on every path there (e.g. triage -> shortcut -> reviewing)",
        )
    ]


def test_earlier_failed_guard_narrows_later_guards() -> None:
    """Transition 2 runs only when 'review is None' was false, so it may read review.score."""
    checked = checked_from_text(
        spec_text("""
        states:
          start: {}
          done: {final: true}
        initial: start
        transitions:
          start:
            - {to: done, when: "review is None"}
            - {to: done, when: "review.score > 0.5"}
            - {to: done}
        """),
        "flow.yaml",
    )
    assert len(checked.outgoing("start")) == 3


def test_guard_narrowing_on_an_edge_assigns_the_field_downstream() -> None:
    """`review is not None` on the edge into a state makes review present there."""
    checked = checked_from_text(
        spec_text("""
        states:
          start: {}
          finishing: {agent: finisher, writes: draft}
          done: {final: true}
        initial: start
        transitions:
          start:
            - {to: finishing, when: "review is not None and review.score > 0.5"}
            - {to: done}
          finishing: [{to: done}]
        """),
        "flow.yaml",
    )
    assert "review" in checked.assigned_on_entry["finishing"]


def test_error_route_does_not_count_the_failed_agents_writes() -> None:
    """on_error leaves the context as it was: the writer's draft is not there on that path."""
    problems = codes_and_messages("""
        states:
          drafting: {agent: writer, writes: draft, on_error: recovering}
          recovering: {agent: reviewer, writes: review}
          done: {final: true}
        initial: drafting
        transitions:
          drafting: [{to: done}]
          recovering: [{to: done}]
        """)
    assert [code for code, _ in problems] == ["context-flow"]
    assert "drafting -> recovering" in problems[0][1]


def test_event_data_writes_assign_fields_for_the_event_routes() -> None:
    """An approve event carrying data writes approval; its guards may read approval directly."""
    checked = checked_from_text(
        spec_text("""
        states:
          waiting:
            wait:
              approve: {data: Approval, writes: approval}
          done: {final: true}
        initial: waiting
        transitions:
          waiting:
            - {on: approve, to: done, when: "approval.editor != ''"}
            - {on: approve, to: waiting}
        """),
        "flow.yaml",
    )
    assert "approval" in checked.assigned_on_entry["done"]


def test_optional_nested_field_needs_narrowing_in_guards() -> None:
    """draft.notes is `str?`: using it without `is not None` is an error, with narrowing fine."""
    body = """
        states:
          drafting: {agent: writer, writes: draft}
          done: {final: true}
        initial: drafting
        transitions:
          drafting:
            - {to: done, when: "%s"}
            - {to: drafting}
        """
    problems = codes_and_messages(body % "len(draft.notes) > 2")
    assert [code for code, _ in problems] == ["guard-optional"]
    checked_from_text(spec_text(body % "draft.notes is not None and len(draft.notes) > 2"), "f")


def test_optional_input_marker_accepts_an_unassigned_field() -> None:
    """`review?` lets an agent read a field that may still be None; its input type is optional."""
    text = spec_text("""
        states:
          finishing: {agent: finisher, writes: draft}
          done: {final: true}
        initial: finishing
        transitions:
          finishing: [{to: done}]
        """).replace("finisher: {input: {review: review}", "finisher: {input: {review: review?}")
    checked = checked_from_text(text, "flow.yaml")
    (field,) = checked.agent_inputs["finisher"].fields
    assert field.type.__class__.__name__ == "OptionalType"


RESET = """
workflow: reset
contracts:
  Sure: {v: str}
  Maybe: {v: str?}
context:
  o: str?
agents:
  certain: {output: Sure}
  uncertain: {output: Maybe}
states:
  first: {agent: certain, writes: {o: v}}
  second: {agent: uncertain, writes: {o: v}}
  third: {agent: certain, writes: {o: v}}
  deciding: {}
  done: {final: true}
  other: {final: true}
initial: first
transitions:
  first: [{to: second}]
  second: [{to: %s}]
  third: [{to: deciding}]
  deciding:
    - {to: done, when: "%s"}
    - {to: third, when: "visits.third < 2"}
    - {to: other}
"""


def test_a_write_that_may_be_none_unsets_a_field_an_earlier_write_assigned() -> None:
    """`first` certainly assigns `o`, but `second` replaces it from an optional output field:
    after it, `o` may be None again and a guard must narrow it; a later certain write, or the
    narrowing itself, makes it safe again."""
    unsafe = RESET % ("deciding", 'o.startswith(\\"h\\")')
    with pytest.raises(SpecError) as caught:
        checked_from_text(unsafe, "reset.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert "`o` may be None here" in diagnostic.message
    narrowed = checked_from_text(
        RESET % ("deciding", 'o is not None and o.startswith(\\"h\\")'), "reset.yaml"
    )
    assert "o" not in narrowed.assigned_on_entry["deciding"]
    rewritten = checked_from_text(RESET % ("third", 'o.startswith(\\"h\\")'), "reset.yaml")
    assert rewritten.assigned_on_entry["deciding"] == frozenset({"o"})
    assert rewritten.assigned_on_entry["second"] == frozenset({"o"})


ALIASED_WRITES = """
workflow: aliased
contracts:
  Sure: {v: str}
  Maybe: {v: str?}
  Done: {ok: bool}
context:
  o: str?
agents:
  certain: {output: Sure}
  uncertain: {output: Maybe}
  reader: {input: {o: o}, output: Done}
states:
  start: {}
  sure: {agent: certain, writes: &w {o: v}}
  maybe: {agent: uncertain, writes: *w}
  asking: {wait: {yes: {data: Sure, writes: {o: v}}, no: {data: Maybe, writes: *w}}}
  reading: {agent: reader}
  done: {final: true}
initial: start
transitions:
  start:
    - {to: sure, when: "steps < 0"}
    - {to: %s}
  sure: [{to: reading}]
  maybe: [{to: reading}]
  asking: [{on: yes, to: done}, {on: no, to: reading}]
  reading: [{to: done}]
"""


@pytest.mark.parametrize("second", ["maybe", "asking"])
def test_writes_shared_through_an_alias_are_judged_by_each_states_own_output(
    second: str,
) -> None:
    """`*w` makes two states' (or events') writes equal values; the one whose source field is
    optional may still leave `o` None, so reading `o` after it is an error (the other of the
    two is left unreachable)."""
    with pytest.raises(SpecError) as caught:
        checked_from_text(ALIASED_WRITES % second, "aliased.yaml")
    flow = [d.message for d in caught.value.diagnostics if d.code == "context-flow"]
    assert len(flow) == 1
    assert f"start -> {second} -> reading" in flow[0]


def _loop_chain(count: int, backwards: bool) -> str:
    """``count`` states in a chain with loops back, each writing its own optional field, and
    each guard reading the previous state's field (certainly written on every path)."""
    lines = ["workflow: chain", "contracts:", "  Out: {v: int}", "context:"]
    lines += [f"  f{i}: Out?" for i in range(count)]
    lines += ["agents:", "  worker: {output: Out}", "states:"]
    order = range(count - 1, -1, -1) if backwards else range(count)
    lines += [f"  s{i}: {{agent: worker, writes: f{i}}}" for i in order]
    lines += ["  done: {final: true}", "initial: s0", "transitions:"]
    for i in range(count):
        after = f"s{i + 1}" if i + 1 < count else "done"
        lines.append(f"  s{i}:")
        lines.append(f'    - {{to: s{max(i - 2, 0)}, when: "f{i}.v > 3 and visits.s{i} < 2"}}')
        lines.append(f'    - {{to: {after}, when: "f{max(i - 1, 0)}.v > 0"}}')
        lines.append(f"    - {{to: {after}}}")
    return "\n".join(lines) + "\n"


def test_the_flow_result_does_not_depend_on_the_order_states_are_listed_in() -> None:
    """The worklist reaches the same fixpoint whatever the declaration order (and a spec
    listed backwards no longer costs a sweep per state: it was cubic)."""
    forward = checked_from_text(_loop_chain(60, backwards=False), "f.yaml")
    backward = checked_from_text(_loop_chain(60, backwards=True), "b.yaml")
    assert forward.assigned_on_entry == backward.assigned_on_entry
    assert forward.assigned_on_entry["s5"] == frozenset({"f0", "f1", "f2", "f3", "f4"})
