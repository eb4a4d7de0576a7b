"""The pydantic schemas of the JSON API: `accounts` (sign-up, tokens, e-mail and password)[% if app.features.teams %], `teams`[% endif %] and one module per entity."""
