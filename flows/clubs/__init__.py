"""Club onboarding and rating flows (issue 16)."""
