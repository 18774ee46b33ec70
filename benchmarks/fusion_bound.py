"""How much fusing a step into one function could save: a bound, not a product path.

The runtime splits a step into small functions (prepare, call and validate, merge, stage,
route, build the two records, encode, append) so that the blocking, async and worker drivers
share them. What issue 6 leaves open is whether generating one fused function per state would
reach its peer targets. This measures the answer without writing that generator:
``FusedLoop.step`` is such a function written by hand for W1's plain ``running`` steps. It does
the same work as ``RunHandle.step()`` — the input record built and checked, an ``AgentCall``,
the agent, its output validated, the merge, the guards, both records, the encoding, the
checksum, one ``INSERT`` — with none of the layers between them, and skips nothing a real step
needs for these steps (frame candidates and the final step go through ``RunHandle.step()``).

It reaches into private attributes of the runtime and the SQLite store, so it lives here, is
exercised by a smoke test, and proves itself by ending on the same context and history as the
real path.

    python -m benchmarks fusion-bound [--steps 3000] [--rounds 7]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import timed_steps
from benchmarks.variants import ours
from benchmarks.workloads import Workload
from fsm import AgentCall, RunHandle
from fsm.store import codec
from fsm.store import sqlite_schema as sql
from fsm.store.records import unchecked_run_record, unchecked_snapshot


class FusedLoop:
    """W1 steps of one run, each in one function; falls back to ``RunHandle.step()`` for any
    step that is not a plain ``running`` one."""

    def __init__(self, handle: RunHandle, store: Any) -> None:
        self.handle = handle
        self.store = store
        self.compiled = handle._workflow
        self.live = handle._live
        self.cursor = store._appender
        self.fallbacks = 0

    def step(self) -> None:
        live, compiled, store = self.live, self.compiled, self.store
        head = live.record
        seq = head.seq + 1
        identity = store._run_keys.get(head.run_id)
        plan = compiled.agent_plans.get(head.state)
        if plan is None or identity is None or seq % store.frame_interval == 0:
            self._real_step()
            return
        started_at, began = time.time(), time.perf_counter()
        context_json = live.context_json
        state = head.state
        inputs = plan.build_inputs(context_json)
        call = AgentCall(head.run_id, seq, 1, state, plan.agent.definition.name)
        output, output_json = plan.validate(plan.agent.fn(inputs, call))
        changes: dict[str, object] = {}
        values: dict[str, object] = {}
        for write in plan.writes:  # W1's writes: one output field replacing one context field
            name = write.source[0]
            value = output_json[name]
            if context_json.get(write.field) != value:
                changes[write.field] = value
                values[write.field] = getattr(output, name)
        context = live.context
        previous = {name: getattr(context, name) for name in values}
        for name, value in values.items():
            object.__setattr__(context, name, value)
        transition = compiled.router.next(state, context, live.steps, live.visits)
        if transition is None or transition.target not in compiled.plain_states:
            for name, value in previous.items():  # as the real step does before failing
                object.__setattr__(context, name, value)
            self._real_step()
            return
        target = transition.target
        snapshot = unchecked_snapshot(
            run_id=head.run_id,
            seq=seq,
            source=state,
            target=target,
            event=None,
            rule=transition.label,
            changes=changes,
            appended={},
            output=output_json,
            error=None,
            attempt=1,
            failed_attempts=(),
            started_at=started_at,
            duration_ms=round((time.perf_counter() - began) * 1000.0, 3),
            spec_hash=compiled.spec_hash,
            status="running",
            frame=None,
        )
        updated_at = time.time()
        record = unchecked_run_record(
            run_id=head.run_id,
            workflow=head.workflow,
            spec_hash=head.spec_hash,
            spec_path=head.spec_path,
            status="running",
            state=target,
            seq=seq,
            waiting_for=(),
            error=None,
            created_at=head.created_at,
            updated_at=updated_at,
            parent_run_id=head.parent_run_id,
            parent_seq=head.parent_seq,
            lease_owner=head.lease_owner,
            lease_expires_at=head.lease_expires_at,
        )
        run_key, pinned = identity
        payload, digest = codec.encode_sealed(snapshot, pinned)
        row = (sql.record_key(run_key, seq), False, digest, payload, target, updated_at)
        self.cursor.execute(sql.INSERT_SNAPSHOT, (*row, None, None, None))
        store._appended[head.run_id] = seq
        context_json.update(changes)
        live.record = record
        live.steps += 1
        live.visits[target] = live.visits.get(target, 0) + 1

    def _real_step(self) -> None:
        self.fallbacks += 1
        self.handle.step()


def measure(steps: int, fused: bool) -> tuple[float, dict[str, Any], int]:
    """Median µs per step of one W1 run of ``steps`` steps, its final context (as the store
    holds it, read back in a new handle), and how many steps the fused loop left to
    ``RunHandle.step()``."""
    workload = Workload("W1", steps)
    with tempfile.TemporaryDirectory(prefix="fsm-fusion-") as folder:
        workflow, store = ours.open_workflow(Path(folder) / "run.db", workload, "normal")
        handle = ours.start(workflow, workload)
        loop = FusedLoop(handle, store)
        times = timed_steps(loop.step if fused else handle.step, steps)
        assert handle.status == "completed", (handle.status, handle.error)
        stored = dict(workflow.run(handle.run_id).context_json)
        assert stored == handle.context_json
        assert len(store.history(handle.run_id)) == steps + 1
        store.close()
    return statistics.median(times) * 1e6, stored, loop.fallbacks


def main(steps: int, rounds: int) -> None:
    real_times: list[float] = []
    fused_times: list[float] = []
    for _ in range(rounds):  # interleaved, so a slow phase of the machine hits both
        real, real_context, _ = measure(steps, fused=False)
        fused, fused_context, _ = measure(steps, fused=True)
        assert fused_context == real_context, "the fused loop must end where the real one does"
        real_times.append(real)
        fused_times.append(fused)
    real_median, fused_median = statistics.median(real_times), statistics.median(fused_times)
    paired = statistics.median(f / r for f, r in zip(fused_times, real_times, strict=True))
    print(f"W1 at NORMAL, {steps} steps, {rounds} rounds (in one process, interleaved):")
    print(f"  RunHandle.step()      median {real_median:6.1f} µs/step")
    print(f"  fused by hand         median {fused_median:6.1f} µs/step")
    print(f"  fused / real          {fused_median / real_median:.3f} (paired {paired:.3f})")
    print(f"  at most saved         {real_median - fused_median:6.1f} µs/step")
