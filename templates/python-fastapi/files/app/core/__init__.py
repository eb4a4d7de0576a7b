"""What the whole app relies on: configuration, database, authentication."""
