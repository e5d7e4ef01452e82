"""The campaign pipeline's I/O steps: store, notifications, report, dated steps."""
