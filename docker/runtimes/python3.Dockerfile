# Whirl's `python:3` runtime image: Whirl's own Python action proxy on the official Python 3 image.
# Build context: Whirl's dist/ directory (after `npm run build`), e.g.
#   docker build -f docker/runtimes/python3.Dockerfile -t whirl/python3 dist
# `whirl runtimes build` builds it the same way (and, offline, on a base assembled from the host: BASE).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}
COPY runtimes/python/proxy.py /opt/whirl/runtimes/python/proxy.py
# The proxy listens on 8080 (OpenWhisk's action port); the root is read-only at run time, /tmp is not,
# so no bytecode is written next to the sources.
ENV HOME=/tmp __WHIRL_LISTEN=8080 __WHIRL_TMP=/tmp PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
USER 65534:65534
EXPOSE 8080
CMD ["python3", "-u", "/opt/whirl/runtimes/python/proxy.py"]
