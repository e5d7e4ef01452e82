"""The base every layer stands on: settings, the database and its migrations, logging, and
document reading. It imports only domain/; tasks/, blocks/, flows/ and the CLI import it."""
