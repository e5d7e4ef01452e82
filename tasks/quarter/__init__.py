"""The quarter's cadence: activity materials and preparation, competitor tracking."""
