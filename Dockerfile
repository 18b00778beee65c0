# Life Cockpit on one small server: the app on its own local host (`blc serve`), for a practice that
# prefers a container to Azure Functions. Durable history lives in SQLite on the /data volume;
# Dataverse, Microsoft Graph and Blob storage are the real services, configured by environment
# (see docs/DEPLOYMENT.md, "The container option").
#
#   docker build -t lifecockpit .
#   docker run -d -p 7071:7071 -v lifecockpit-data:/data --env-file lifecockpit.env lifecockpit

ARG NODE_VERSION=22

# ---- build: all dependencies, compile, then drop the development ones ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 compiles its native addon when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- run: production dependencies and the build output only ----
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    WEBSITE_TIME_ZONE=UTC \
    API_MAX_BODY_BYTES=1048576
WORKDIR /app
# Owned by root and read-only to the app's user; only /data is writable.
COPY --from=build /app/package.json /app/host.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 7071
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7071/api/health',{signal:AbortSignal.timeout(8000)}).then((r)=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
# 0.0.0.0: reachable through the container's published port (blc serve listens on loopback by default).
CMD ["node", "--max-semi-space-size=32", "bin/blc.js", "serve", "--app", ".", "--data", "/data", "--port", "7071", "--host", "0.0.0.0"]
