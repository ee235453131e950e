# Build: compile TypeScript and the dashboard, then keep only production dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Optional dependencies are installed for the build: Vite's bundler (rolldown) and CSS minifier (lightningcss)
# ship their native binaries as optional, per-platform packages, and the SQLite driver is optional too, one
# major per Node line (src/adapters/db/connect.ts): on Node 24 better-sqlite3 13 (prebuilt here), while
# better-sqlite3-node20 (12, for Node 20) may fail to build without a compiler, which npm forgives in an
# optional package. An optional package npm skipped would only fail when SQLite is first used: the build
# checks now that the driver this Node loads is there.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && node -e "require('better-sqlite3')"
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY src ./src
# The dashboard: vite builds web/ into dist/web, which the service serves at /.
COPY web ./web
# Development dependencies go (and with them the bundler's native packages); the SQLite driver stays.
RUN npm run build && npm prune --omit=dev

# Run: one stateless instance; state lives in PostgreSQL and Redis. WEB_CONCURRENCY
# (unset: one process) runs that many workers on the port, and needs REDIS_URL.
# Migrations: `node dist/cli.js migrate`, once, before instances start (compose.yaml's
# migrate service); an instance applies any still pending itself at start.
FROM node:24-bookworm-slim
WORKDIR /app
# The request log (apicalls.log) goes to stdout, a line at a time, beside the JSON log: a container's
# output is what Docker keeps and rotates. Set APICALLS_LOG to a file under /app/logs (a volume) to keep
# it apart; then something must rotate it and send SIGHUP (deploy/logrotate.conf).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 APICALLS_LOG=/dev/stdout
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# /docs shows the service's icon as its logo and favicon (src/adapters/http/openapi.ts reads it at start).
COPY --from=build /app/web/icon.svg ./web/icon.svg
RUN mkdir -p /app/logs /app/data && chown node:node /app/logs /app/data
USER node
EXPOSE 8000
# Readiness: 200 while the instance should take traffic (database, migrations, not draining);
# /health is the liveness check. /metrics is on the same port.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/main.js"]
