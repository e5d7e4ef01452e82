"""Member lifecycle flows: registration and activation, the daily activation sweep,
birthdays and referral rewards, the monthly points expiry, the weekly segmentation with the
reactivation campaign, and the yearly tier review."""
