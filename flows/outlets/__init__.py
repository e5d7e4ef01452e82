"""Second-tier outlets (二网): qualification reviews and the daily document sweep."""
