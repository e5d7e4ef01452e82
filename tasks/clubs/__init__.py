"""Club onboarding and rating (issue 16)."""
