"""One test module per entity of the spec."""
