# edge in a container: `docker build -t edge .` then
#   docker run --rm -p 443:8443 -p 80:8080 -v /srv/edge:/etc/edge edge
# /etc/edge holds edge.toml, certs/ and rules/ (the image carries a starting set from `edge init`, with a
# development certificate for localhost: mount your own folder in production). See docs/operations.md.
FROM python:3.12-slim

# build tools only while pip builds libinjection-python; removed in the same layer
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY edge ./edge
COPY rules ./rules
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /src

# a user without a shell or a home; the ports inside are above 1024, so no capability is needed
RUN useradd --system --no-create-home --shell /usr/sbin/nologin --uid 10001 edge \
    && edge init /etc/edge \
    && sed -i 's/"127.0.0.1:8443"/"0.0.0.0:8443"/; s/"127.0.0.1:8080"/"0.0.0.0:8080"/' /etc/edge/edge.toml \
    && chown -R edge:edge /etc/edge
USER edge
WORKDIR /etc/edge
EXPOSE 8443 8080

# the admin listener stays on the container's loopback: only this check (and `docker exec`) reaches it
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9901/healthz', timeout=2)"]

# SIGTERM (docker stop) drains for server.grace; give `docker stop -t` more than that
STOPSIGNAL SIGTERM
ENTRYPOINT ["edge"]
CMD ["run", "-c", "/etc/edge/edge.toml"]
