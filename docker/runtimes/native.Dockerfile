# Whirl's `native` runtime image, also used for `openwhisk/dockerskeleton` (`--native`) actions: Whirl's
# native proxy (runs any executable: a script, a static binary) on the official Node.js 20 image, which
# brings a POSIX shell and the usual tools.
# Build context: Whirl's dist/ directory (after `npm run build`), e.g.
#   docker build -f docker/runtimes/native.Dockerfile -t whirl/native dist
# `whirl runtimes build` builds it the same way (and, offline, on a base assembled from the host: BASE).
ARG BASE=node:20-bookworm-slim
FROM ${BASE}
COPY runtimes/package.json /opt/whirl/runtimes/package.json
COPY runtimes/common /opt/whirl/runtimes/common
COPY runtimes/native /opt/whirl/runtimes/native
# The proxy listens on 8080 (OpenWhisk's action port); the root is read-only at run time, /tmp is not.
ENV HOME=/tmp __WHIRL_LISTEN=8080 __WHIRL_TMP=/tmp
WORKDIR /tmp
USER 65534:65534
EXPOSE 8080
CMD ["node", "/opt/whirl/runtimes/native/main.js"]
