# syntax=docker/dockerfile:1.7
#
# The web console: the Vite build of apps/console served by its server (apps/console/server, built to
# server/dist; Node built-ins plus oauth4webapi, which has no dependencies of its own, and for the receipt log check
# the shared receipt-log core with @bufbuild/protobuf and canonicalize), which signs people in
# (CONSOLE_OIDC_*) and proxies the browser's calls to the services named by RECEIPTS_URL, STALENESS_URL and
# REGENERATION_URL.
#   docker build -f deploy/images/console.Dockerfile -t provenance-console .

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci
RUN npx turbo run build --filter=@provenance/console

FROM ${NODE_IMAGE} AS final
LABEL org.opencontainers.image.title="provenance-console" \
      org.opencontainers.image.description="Generation provenance: the web console"
# The local (untrusted) C2PA certificate is made under PROVENANCE_DATA_DIR when CONSOLE_C2PA_CERT/KEY are not set;
# set those from a Secret in production.
ENV NODE_ENV=production HOST=0.0.0.0 CONSOLE_PORT=7100 PROVENANCE_DATA_DIR=/tmp/provenance
WORKDIR /app
COPY --from=build /src/apps/console/package.json ./package.json
COPY --from=build /src/apps/console/serve.mjs ./serve.mjs
COPY --from=build /src/apps/console/server/dist ./server/dist
COPY --from=build /src/node_modules/oauth4webapi ./node_modules/oauth4webapi
# The receipt panel's log check verifies with the shared receipt-log core (packages/shared/dist) and what it imports.
COPY --from=build /src/packages/shared/package.json ./node_modules/@provenance/shared/package.json
COPY --from=build /src/packages/shared/dist ./node_modules/@provenance/shared/dist
COPY --from=build /src/node_modules/@bufbuild/protobuf ./node_modules/@bufbuild/protobuf
COPY --from=build /src/node_modules/canonicalize ./node_modules/canonicalize
# Import from ComfyUI (@provenance/comfyui) and Content Credentials (@provenance/c2pa with c2pa-rs as WebAssembly and
# @peculiar/x509 for the local certificate), with every package they load at run time.
COPY --from=build /src/packages/comfyui/package.json ./node_modules/@provenance/comfyui/package.json
COPY --from=build /src/packages/comfyui/dist ./node_modules/@provenance/comfyui/dist
COPY --from=build /src/packages/c2pa/package.json ./node_modules/@provenance/c2pa/package.json
COPY --from=build /src/packages/c2pa/dist ./node_modules/@provenance/c2pa/dist
COPY --from=build /src/node_modules/@contentauth/c2pa-wasm ./node_modules/@contentauth/c2pa-wasm
COPY --from=build /src/node_modules/@peculiar ./node_modules/@peculiar
COPY --from=build /src/node_modules/asn1js ./node_modules/asn1js
COPY --from=build /src/node_modules/pvtsutils ./node_modules/pvtsutils
COPY --from=build /src/node_modules/pvutils ./node_modules/pvutils
COPY --from=build /src/node_modules/reflect-metadata ./node_modules/reflect-metadata
COPY --from=build /src/node_modules/tslib ./node_modules/tslib
COPY --from=build /src/node_modules/tsyringe ./node_modules/tsyringe
COPY --from=build /src/apps/console/dist ./dist
RUN groupadd --system --gid 10001 provenance \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin provenance
USER 10001:10001
EXPOSE 7100
ENTRYPOINT ["node", "serve.mjs"]
