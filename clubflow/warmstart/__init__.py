"""Warm start of flow runs on a worker: fork a process that has already imported everything.

A worker normally starts each flow run as a new `python -m prefect.engine` process, which spends
several seconds importing Prefect and the project before the run does anything. A resumed gate
is such a run, so that start is most of a decision's latency (docs/scale.md).

`clubflow worker` therefore also starts a warm-start server (`server.py`): one process that
imports Prefect, the pull step and every deployment's flow module once, then forks a child per
flow run. The pool's runs start with `clubflow-run` (`launch.py`), a launcher that only uses the
standard library: it hands its environment, working folder and standard streams to the server,
relays signals to the forked run and exits with the run's exit status, so the worker supervises
it exactly as it would supervise `python -m prefect.engine`. Without a server (or when the code
on disk changed since the server imported it) the launcher becomes `python -m prefect.engine`
itself: the warm start only ever saves time, it never changes what runs.
"""

SOCKET_ENV = "CLUBFLOW_WARM_SOCKET"
