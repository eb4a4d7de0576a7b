"""Outgoing mail: through SMTP when `SMTP_URL` is set, else (development, tests) to the log.

`SMTP_URL` is `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it) or
`smtps://…` (TLS from the start, port 465 by default). Production refuses to start without it
(see app.core.config). A mail that cannot be sent is logged as an error: the request that sent it
still succeeds, so a mail outage never locks users out of the rest of the app.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from app.core.config import settings

log = logging.getLogger("app.mail")

# Mails "sent" without SMTP_URL, newest last (the app's own tests read the links from here).
OUTBOX: list[EmailMessage] = []
OUTBOX_MAX = 100


def send(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.smtp_url:
        OUTBOX.append(message)
        del OUTBOX[:-OUTBOX_MAX]
        log.warning("SMTP_URL is not set: mail to %s not sent.\nSubject: %s\n\n%s", to, subject, body)
        return
    try:
        _smtp_send(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail to %s (%s)", to, subject)


def _smtp_send(message: EmailMessage) -> None:
    import ssl  # only when mail really goes out

    url = urlsplit(settings.smtp_url)
    host = url.hostname or "localhost"
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=15, context=context)
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=15)
    with client:
        client.ehlo()
        if url.scheme != "smtps" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
