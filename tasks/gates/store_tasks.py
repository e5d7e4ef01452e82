"""The gate store's data functions (tasks/gates/store.py) as the tasks flows run.

Apart from the data functions because making a task imports Prefect, which `clubflow decide`
and the portal, deciding gates with those functions, do without.
"""

from __future__ import annotations

from tasks.common import data_task
from tasks.gates.store import (
    keep_gate_artifact,
    reach_gate,
    record_decision,
    record_overruling,
    refused_answers,
    run_replay,
)

run_replay_task = data_task(run_replay, retries=2, retry_delay_seconds=[2, 10])
reach_gate_task = data_task(reach_gate, retries=2, retry_delay_seconds=[2, 10])
refused_answers_task = data_task(refused_answers, retries=2, retry_delay_seconds=[2, 10])
record_decision_task = data_task(record_decision, retries=2, retry_delay_seconds=[2, 10])
record_overruling_task = data_task(record_overruling, retries=2, retry_delay_seconds=[2, 10])
keep_gate_artifact_task = data_task(keep_gate_artifact, retries=2, retry_delay_seconds=[2, 10])
