"""The activity lifecycle's I/O steps: store, announcements, check-in, recap, claims, points,
archive (data functions), their @task wrappers (steps.py) and the sweep's dated steps
(hooks.py)."""
