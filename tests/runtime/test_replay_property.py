"""Property: any run of a shipped spec replays as recorded against that spec.

Agents answer with arbitrary contract-valid outputs or fail (retries and ``on_error`` routes),
waiting runs get any event they accept with arbitrary data, some runs are started with a low
step limit and some are forked and continued: whatever the run did, its replay matches every
record (a false divergence would make every real one untrustworthy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm.errors import RoutingError
from fsm.runtime import AgentCall, Workflow
from fsm.spec.checked import CheckedSpec
from fsm.spec.model import RetryPolicy
from fsm.spec.validate import load_checked
from fsm.store import SqliteStore
from fsm.testing.runs import start_input_type
from fsm.testing.strategies import values

SPECS = sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))


def instant(checked: CheckedSpec) -> CheckedSpec:
    """No backoff and no timeout (a timeout runs the agent in a thread, where hypothesis
    cannot draw); up to 2 attempts so retries are recorded."""
    agents = tuple(
        attrs.evolve(agent, retry=RetryPolicy(attempts=2), timeout=None)
        for agent in checked.spec.agents
    )
    return attrs.evolve(checked, spec=attrs.evolve(checked.spec, agents=agents))


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_random_runs_of_shipped_specs_replay_as_recorded(path: Path, tmp_path: Path) -> None:
    checked = instant(load_checked(path))
    spec = checked.spec
    store = SqliteStore(tmp_path / "runs.db", frame_interval=3)
    source: dict[str, st.DataObject] = {}

    def fake(name: str, output_type: Any) -> Any:
        def agent(inputs: object, call: AgentCall) -> object:
            data = source["data"]
            if data.draw(st.integers(0, 9), label=f"{name} fails") == 0:
                raise RuntimeError(f"{name} is unavailable")
            return data.draw(values(output_type), label=f"output of {name}")

        return agent

    agents = {agent.name: fake(agent.name, agent.output_type) for agent in spec.agents}
    workflow = Workflow.from_spec(checked, agents=agents, store=store)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def replays(data: st.DataObject) -> None:
        source["data"] = data
        start = data.draw(values(start_input_type(checked)), label="input")
        assert isinstance(start, dict)
        limit = data.draw(st.sampled_from([None, 3, 6]), label="max_steps")
        handle = workflow.start(start, max_steps=limit)
        for _ in range(spec.max_steps):
            if handle.status != "waiting":
                break
            name = data.draw(st.sampled_from(handle.waiting_for), label="event")
            event = spec.state(handle.state).event(name)  # type: ignore[union-attr]
            assert event is not None
            given_data = values(event.data_type) if event.data_type is not None else st.none()
            try:
                handle.send(name, data.draw(given_data, label="data"))
            except RoutingError:  # refused (a guard raised on the data): nothing recorded
                break
        runs = [handle.run_id]
        if data.draw(st.booleans(), label="fork"):
            at = data.draw(st.integers(0, handle.seq), label="at")
            fork = workflow.fork(handle.run_id, at, max_steps=spec.max_steps + handle.seq)
            runs.append(fork.resume().run_id)
        for run_id in runs:
            report = workflow.replay(run_id)
            assert report.divergence is None, (run_id, report.divergence)
            assert report.records == report.matched == store.get_run(run_id).seq

    replays()
    store.close()
