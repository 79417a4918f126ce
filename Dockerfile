# syntax=docker/dockerfile:1

# Node 24 LTS, as "engines" and .nvmrc pin it. One base for every stage, so the compiled code and
# the native modules in node_modules meet the runtime they were built for.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, then TypeScript to dist/ (dist/src, dist/migrations, …) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# The lockfile alone first, so source edits reuse the cached `npm ci` layer.
COPY package.json package-lock.json ./
RUN npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY test/support ./test/support
RUN npm run build

# ---- prod-deps: the same node_modules without devDependencies ----
FROM build AS prod-deps
RUN npm prune --omit=dev

# ---- issuer: a Better Auth server for local trials (docker-compose.yml); never for production ----
# It runs the better-auth devDependency, so it keeps the full node_modules.
FROM ${NODE_IMAGE} AS issuer
WORKDIR /app
ENV NODE_ENV=development ISSUER_HOST=0.0.0.0 ISSUER_PORT=3000
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/scripts/issuer.js"]

# ---- runtime: the API (the default target, last on purpose) ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# Production refuses to start without DATABASE_URL (no embedded database in a container) and
# fetches a non-loopback JWKS only over https.
ENV NODE_ENV=production PORT=8000
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# Root owns the files; the process runs unprivileged and cannot change its own code.
USER node
# The API, and the Prometheus metrics on their own port (METRICS_PORT).
EXPOSE 8000 9464
# Ready = the database answers and a signing key set is loaded. Node's fetch: the slim image has
# no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/api/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same young-generation cap as `npm start` (README, "Memory"): without it V8 grows each
# semi-space to 64 MB under load, which adds over 100 MB of resident memory and lengthens the
# scavenge pauses that make the slowest responses.
ENV NODE_OPTIONS=--max-semi-space-size=16
# node itself as PID 1 (no npm in between): SIGTERM reaches the app, which drains requests,
# closes the pool and exits 0.
CMD ["node", "dist/src/main.js"]
