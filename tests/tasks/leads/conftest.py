from support_leads import lead_channels, lead_world  # noqa: F401
