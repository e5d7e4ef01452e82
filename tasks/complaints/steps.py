"""The complaints steps as Prefect tasks (each opens its own session)."""

from __future__ import annotations

from tasks.common import data_task
from tasks.complaints.satisfaction import ended_activities, sample_satisfaction
from tasks.complaints.summary import summarise_complaints
from tasks.complaints.sweep import sweep_complaints

sweep_complaints_task = data_task(sweep_complaints, retries=2)
ended_activities_task = data_task(ended_activities)
sample_satisfaction_task = data_task(sample_satisfaction, retries=2)
summarise_complaints_task = data_task(summarise_complaints, retries=2)
