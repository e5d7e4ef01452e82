"""I/O steps of the lead callbacks: each task handles a whole batch in set-based SQL."""
