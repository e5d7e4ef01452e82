"""The club portal: the signed-in web front door for dealers, club admins, call agents,
specialists and members (docs/portal.md). Server-rendered Jinja2 pages over the same store,
gates and outbox as the flows and the CLI."""
