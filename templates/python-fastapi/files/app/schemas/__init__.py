"""One module per entity: the pydantic schemas of its JSON API."""
