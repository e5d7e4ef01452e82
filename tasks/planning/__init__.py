"""I/O steps of quarterly planning, the crossing rotation and the monthly club report."""
