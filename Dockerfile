# The insights service's image: built on Debian 12, run on a slim Debian 12
# with the runtime libraries only, as UID 10001 on a read-only root
# filesystem. The database lives in the /data volume.
#
#   npm ci && docker build -t insights:1.0.0 .
#   (podman: podman build --format docker ..., or the HEALTHCHECK is dropped)
#   docker run --read-only -p 8000:8000 -v insights-data:/data insights:1.0.0
#
# README "Deploying" says which of these the tests run (make test-container).
#
# BASE is the Debian 12 image both stages start from; `make test-container`
# passes one made with mmdebstrap (scripts/container-base.sh), as base
# images cannot be pulled where the tests run. DOCS=1 embeds the Swagger
# UI, ReDoc, GraphiQL and the dashboard's scripts from node_modules/ (run
# `npm ci` first: only the files served are sent, see .dockerignore); DOCS=0
# builds without them; auto (the default) takes node_modules/ when present.
ARG BASE=docker.io/library/debian:12-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
      libmicrohttpd-dev libjson-c-dev libsqlite3-dev libpq-dev libcmark-dev libssl-dev \
      libcurl4-openssl-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG DOCS=auto
# NPM=true: node_modules/ came with the context; npm is neither needed nor run.
RUN docs="$DOCS"; \
    if [ "$docs" = auto ]; then docs=0; [ -f node_modules/.package-lock.json ] && docs=1; fi; \
    make -j"$(nproc)" BUILD=/out DOCS="$docs" NPM=true /out/insights \
 && strip --strip-debug /out/insights \
 && /out/insights --version

FROM ${BASE}
# The runtime libraries only; then no file keeps a setuid or setgid bit, and
# UID 10001 gets a name (libpq looks the user up) and /data.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjson-c5 libsqlite3-0 libpq5 libcmark0.30.2 libssl3 libcurl4 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && find / -xdev -type f -perm /6000 -exec chmod ug-s {} + \
 && echo 'insights:x:10001:10001:insights:/data:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'insights:x:10001:' >> /etc/group \
 && mkdir /data && chown 10001:10001 /data && chmod 0750 /data
COPY --from=build /out/insights /usr/local/bin/insights

# 0.0.0.0: reachable through the published port. Authentication is on for
# any non-loopback address (create a token with `insights token create`).
ENV INSIGHTS_HOST=0.0.0.0 \
    INSIGHTS_PORT=8000 \
    DATABASE_URL=sqlite:////data/insights.db \
    HOME=/data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=6s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/insights", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/insights"]
CMD ["serve"]

# Last, as they change with every commit (scripts/container-build.sh passes
# the commit and its date): the steps above stay cached.
ARG VERSION=1.0.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="insights" \
      org.opencontainers.image.description="A knowledge service: insights, tags and categories over REST and GraphQL, on SQLite or PostgreSQL" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="debian:12-slim"
