"""Gates in the store and around it, one module per job.

- `store`: open, read, decide, overrule and void gates (data functions and their tasks);
- `signing`: the HMAC that binds an accepted sign-off to the plan it signed;
- `inbox`: what waits on a person (gates, and the sources other areas register);
- `ladder`: the reminder → escalation notifications of overdue gates;
- `dated_steps`: the registry of dated steps the hourly sweep runs;
- `discovery`: imports every area's `tasks/<area>/hooks.py` so they register;
- `runs`: Prefect client calls on the run that waits (label, retire);
- `decisions`: deciding from Python and the CLI (`decide`, `wake_run`, `inbox`).

How a flow waits at a gate is in flows/gates.py; docs/gates.md shows both sides.
"""
