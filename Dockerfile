# The image runs larder's built JavaScript on the current Node.js LTS, with no compiler or transpiler at runtime.
# test/unit/deployment.spec.ts checks this file against the checkout (COPY sources, manifests in the
# npm ci stage, ENTRYPOINT/CMD served from a built checkout) — there is no Docker engine in CI.
#
#   docker build -t larder .
#   docker run --rm -v "$PWD/feature_repo:/feature_repo:ro" -p 8815:8815 -p 9090:9090 larder
#   docker run --rm -p 8815:8815 larder example -h 0.0.0.0

ARG NODE_IMAGE=node:26-trixie-slim

# ---- build: every workspace compiled to dist/ (JavaScript, declarations, source maps)
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.build.json tsconfig.build.base.json ./
COPY packages/ packages/
COPY core/ core/
COPY plugins/ plugins/
COPY cli/ cli/
COPY scripts/generate-proto-descriptors.js scripts/generate-schema-validator.js scripts/generate-config-validators.js scripts/
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm run build

# ---- deps: production node_modules from the lock file (workspace manifests only, for layer caching)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/flight/package.json packages/flight/
COPY core/package.json core/
COPY plugins/auth-k8s/package.json plugins/auth-k8s/
COPY plugins/auth-oidc/package.json plugins/auth-oidc/
COPY plugins/duckdb/package.json plugins/duckdb/
COPY plugins/parquet-files/package.json plugins/parquet-files/
COPY plugins/postgres/package.json plugins/postgres/
COPY plugins/registry-remote/package.json plugins/registry-remote/
COPY plugins/registry-sql/package.json plugins/registry-sql/
COPY plugins/trino/package.json plugins/trino/
COPY cli/package.json cli/
# --ignore-scripts: the root's `prepare` would build, which needs the compiler this stage omits.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

# ---- runtime: production dependencies plus each package's built output and data files
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app /app
COPY --from=build /src/packages/flight/dist packages/flight/dist
COPY --from=build /src/packages/flight/proto packages/flight/proto
COPY --from=build /src/core/dist core/dist
COPY --from=build /src/core/proto core/proto
COPY --from=build /src/core/generated core/generated
COPY --from=build /src/core/python core/python
COPY --from=build /src/plugins/auth-k8s/dist plugins/auth-k8s/dist
COPY --from=build /src/plugins/auth-oidc/dist plugins/auth-oidc/dist
COPY --from=build /src/plugins/duckdb/dist plugins/duckdb/dist
COPY --from=build /src/plugins/parquet-files/dist plugins/parquet-files/dist
COPY --from=build /src/plugins/postgres/dist plugins/postgres/dist
COPY --from=build /src/plugins/registry-remote/dist plugins/registry-remote/dist
COPY --from=build /src/plugins/registry-sql/dist plugins/registry-sql/dist
COPY --from=build /src/plugins/trino/dist plugins/trino/dist
COPY --from=build /src/cli/bin cli/bin
# The Feast operator and the feast-feature-server Helm chart replace the entrypoint with Feast's own
# command line (`feast --log-level INFO serve_offline -h 0.0.0.0 -p 8815`): `feast` runs larder for
# `serve_offline` and refuses every other Feast subcommand. Not an npm bin, so it cannot shadow
# Python Feast on a user's machine.
RUN ln -s /app/cli/bin/feast.js /usr/local/bin/feast
# The feature repo is mounted here; owned by the runtime uid so `larder example` can write into it.
RUN install -d -o 1000 -g 1000 /feature_repo
WORKDIR /feature_repo
# Numeric, so Kubernetes' runAsNonRoot can verify it (uid 1000 is the image's `node` user).
USER 1000:1000
# 8815: Arrow Flight (plain; 8816 by convention with --key/--cert), 9090: Prometheus /metrics.
EXPOSE 8815 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/cli/bin/larder.js"]
CMD ["-c", "/feature_repo", "serve_offline", "-h", "0.0.0.0", "-p", "8815", "--metrics-port", "9090"]
