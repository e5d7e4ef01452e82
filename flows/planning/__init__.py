"""Quarterly planning, crossing invitations and challenges, the year-end best crossing and the
monthly club report."""
