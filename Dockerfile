# Verified without a Docker engine: these stages replayed in a scratch dir (npm ci --omit=dev on the manifests, then only the
# COPYed paths, run as uid 1000 with a read-only TMPDIR): `larder example` answered a Flight pull; this CMD answered /metrics and gRPC health; both exited 0 on SIGTERM.
#
# larder runs its TypeScript sources through tsx at runtime (bin/larder.js), so there is no build
# step: tsx is a production dependency of @larder/core and survives --omit=dev.
#
#   docker build -t larder .
#   docker run --rm -v "$PWD/feature_repo:/feature_repo:ro" -p 8815:8815 -p 9090:9090 larder
#   docker run --rm -p 8815:8815 larder example -h 0.0.0.0

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: production node_modules from the lock file (workspace manifests only, for layer caching)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY core/package.json core/
COPY plugins/auth-k8s/package.json plugins/auth-k8s/
COPY plugins/auth-oidc/package.json plugins/auth-oidc/
COPY plugins/duckdb/package.json plugins/duckdb/
COPY plugins/parquet-files/package.json plugins/parquet-files/
COPY plugins/postgres/package.json plugins/postgres/
COPY plugins/registry-remote/package.json plugins/registry-remote/
COPY plugins/registry-sql/package.json plugins/registry-sql/
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# tsx would otherwise cache transpiled files under $TMPDIR and crash when it is read-only
# (`docker run --read-only`); a fresh container has an empty cache anyway.
ENV TSX_DISABLE_CACHE=1
WORKDIR /app
# node_modules (and any nested workspace node_modules) first; sources on top of them.
COPY --from=deps /app /app
COPY package.json package-lock.json ./
COPY bin/ bin/
COPY core/ core/
COPY plugins/ plugins/
COPY example/ example/
# The feature repo is mounted here; owned by the runtime uid so `larder example` can write into it.
RUN install -d -o 1000 -g 1000 /feature_repo
WORKDIR /feature_repo
# Numeric, so Kubernetes' runAsNonRoot can verify it (uid 1000 is the image's `node` user).
USER 1000:1000
# 8815: Arrow Flight (plain; 8816 by convention with --key/--cert), 9090: Prometheus /metrics.
EXPOSE 8815 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/larder.js"]
CMD ["-c", "/feature_repo", "serve_offline", "-h", "0.0.0.0", "-p", "8815", "--metrics-port", "9090"]
