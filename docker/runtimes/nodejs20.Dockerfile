# Whirl's `nodejs:20` runtime image: Whirl's own Node.js action proxy on the official Node.js 20 image.
# Build context: Whirl's dist/ directory (after `npm run build`), e.g.
#   docker build -f docker/runtimes/nodejs20.Dockerfile -t whirl/nodejs20 dist
# `whirl runtimes build` builds it the same way (and, offline, on a base assembled from the host: BASE).
ARG BASE=node:20-bookworm-slim
FROM ${BASE}
COPY runtimes/package.json /opt/whirl/runtimes/package.json
COPY runtimes/common /opt/whirl/runtimes/common
COPY runtimes/nodejs /opt/whirl/runtimes/nodejs
# The proxy listens on 8080 (OpenWhisk's action port); the root is read-only at run time, /tmp is not.
# NODE_PATH: the npm packages the runtime ships to actions (`require('openwhisk')`), after the action's own.
ENV HOME=/tmp __WHIRL_LISTEN=8080 __WHIRL_TMP=/tmp NODE_PATH=/opt/whirl/runtimes/nodejs/node_modules
WORKDIR /tmp
USER 65534:65534
EXPOSE 8080
CMD ["node", "--max-http-header-size=65536", "/opt/whirl/runtimes/nodejs/main.js"]
