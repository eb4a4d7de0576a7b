"""`N_()`: marks a message kept as data (a form error, a flash) so the catalog check finds it;
it is translated where it is shown (`{{ _(error) }}` in the templates, see app.i18n)."""


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    return message
