# syntax=docker/dockerfile:1
# The e2e-action image: the static binary plus the default pack's toolchain (python3 + uv).

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# perl and make build the vendored OpenSSL that libgit2 uses for HTTPS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends perl make \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY templates ./templates
COPY examples/events ./examples/events
RUN cargo build --release --locked \
    && cp target/release/e2e-action /e2e-action

FROM ghcr.io/astral-sh/uv:0.9.5 AS uv

# The same Python as the generated app's image and deploy workflow (3.11), so the tests the
# action runs use the version the app ships with.
FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.source="https://github.com/e2e-action/e2e-action" \
      org.opencontainers.image.description="Turns one GitHub issue into a tested micro-SaaS app on a branch"
COPY --from=uv /uv /usr/local/bin/uv
COPY --from=build /e2e-action /usr/local/bin/e2e-action
ENV UV_LINK_MODE=copy \
    PYTHONDONTWRITEBYTECODE=1
# Generated code (installs and tests) runs as this unprivileged user, never as root: see
# docs/SECURITY.md. The uid is the first of the binary's sandbox range.
RUN groupadd --system --gid 64000 e2e-sandbox \
    && useradd --system --uid 64000 --gid 64000 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin e2e-sandbox
# Container actions run as root over the runner's checkout; the binary trusts that workspace
# deliberately (see docs/design.md) and runs generated code as e2e-sandbox under Landlock.
ENTRYPOINT ["/usr/local/bin/e2e-action"]
