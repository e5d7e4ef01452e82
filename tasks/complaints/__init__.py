"""Complaints and satisfaction: the I/O steps."""
