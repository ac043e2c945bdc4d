# Multi-stage build: compile with the committed .sqlx/ query data (no database needed),
# then run as an unprivileged user on a slim image. The image expects DATABASE_URL
# (see compose.yaml); it does not embed PostgreSQL. It listens on all interfaces, so it also
# needs NDP_BASE_URL, the address people use (links in mails are built from it); without it the
# portal refuses to start and says so.
FROM rust:1-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true CARGO_TERM_COLOR=never
COPY . .
RUN cargo build --release --locked && strip target/release/ndp

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/ndp --create-home --shell /usr/sbin/nologin ndp
COPY --from=build /src/target/release/ndp /usr/local/bin/ndp
USER ndp
WORKDIR /var/lib/ndp
ENV NDP_DATA_DIR=/var/lib/ndp NDP_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ready <&3"]
ENTRYPOINT ["/usr/local/bin/ndp"]
CMD ["serve"]
