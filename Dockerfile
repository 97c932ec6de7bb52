# syntax=docker/dockerfile:1
# Node 24 LTS in both stages (Node 20 reached end of life in April 2026; the code runs on both).
# Build stage: compile TypeScript with the full dev toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and compiled output only, as an unprivileged user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# The image needs no writable path: logs go to stdout, state lives in memory or Redis,
# so it runs with a read-only root filesystem.
USER node
EXPOSE 8080 9464
# Probe the admin listener; it must listen on an address reachable inside the container.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ADMIN_PORT || 9464) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/server.js"]
CMD ["--config", "/etc/defender-gateway/gateway.yaml"]
