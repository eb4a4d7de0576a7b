#!/usr/bin/env python3
"""Renders monitoring/alertmanager.yml for this deployment: every `${…}` placeholder becomes the value of
that environment variable (as a quoted YAML string; booleans as true/false).

    python3 deploy/render-alertmanager.py monitoring/alertmanager.yml OUT

Variables (required unless a default is shown):
  ALERT_EMAIL_TO          who gets critical alerts by e-mail (comma-separated addresses)
  SMTP_SMARTHOST          the mail server, host:port (e.g. smtp.example.com:587)
  SMTP_FROM               the sender address
  SMTP_USERNAME           login at the mail server (default: none, no authentication)
  SMTP_REQUIRE_TLS        true or false (default: true; STARTTLS before sending)
  SMTP_PASSWORD_FILE      file holding the SMTP password (default: /run/secrets/smtp_password)
  SLACK_WEBHOOK_URL_FILE  file holding the Slack webhook URL (default: /run/secrets/slack_webhook_url)

Standard library only: it runs on the deploy workflow's runner and on any host with Python 3.
"""

from __future__ import annotations

import json
import os
import re
import sys

DEFAULTS = {
    "SMTP_USERNAME": "",
    "SMTP_REQUIRE_TLS": "true",
    "SMTP_PASSWORD_FILE": "/run/secrets/smtp_password",
    "SLACK_WEBHOOK_URL_FILE": "/run/secrets/slack_webhook_url",
}
BOOLEANS = {"SMTP_REQUIRE_TLS"}
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def render(template: str, environ: dict[str, str]) -> str:
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = environ.get(name, "").strip() or DEFAULTS.get(name)
        if raw is None:
            missing.append(name)
            return ""
        if name in BOOLEANS:
            if raw.lower() not in ("true", "false"):
                raise SystemExit(f"{name} must be true or false, not {raw!r}")
            return raw.lower()
        return json.dumps(raw)  # a JSON string is a valid double-quoted YAML scalar

    out = PLACEHOLDER.sub(value, template)
    if missing:
        names = ", ".join(sorted(set(missing)))
        raise SystemExit(f"render-alertmanager: set {names} (see deploy/README.md, 'Alerts')")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as src:
        text = render(src.read(), dict(os.environ))
    with open(argv[2], "w", encoding="utf-8") as dst:
        dst.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
