"""Second-tier outlets: registration, the three reviews, document expiry."""
