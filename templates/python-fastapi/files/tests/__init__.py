"""Generated tests, one module per entity."""
