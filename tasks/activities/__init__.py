"""The activity lifecycle's I/O steps: store, announcements, check-in, recap, claims, points,
archive. Each module holds its data functions and, at its bottom, their tasks; the sweep's
dated steps are in hooks.py."""
