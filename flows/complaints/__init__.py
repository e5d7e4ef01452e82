"""Complaints and satisfaction flows."""
