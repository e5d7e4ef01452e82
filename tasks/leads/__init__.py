"""I/O steps of the lead callbacks (DOMAIN §5): each task handles a whole batch in set-based SQL."""
