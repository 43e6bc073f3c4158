# fleet-rollback as a container image: Node.js and the bundled command line, nothing else (no
# npm, no node_modules, no shell needed), running as a non-root user. For Jenkins
# `agent { docker { image 'fleet-rollback:0.1.0' } }` and for hosts without a suitable Node.js.
#
# Build it from a checkout after `npm ci`:
#   npm run build && docker build -t fleet-rollback:0.1.0 .
# or from the packed package (`npm pack`, then in the unpacked `package/` directory, with this
# file and .dockerignore copied there: the same files are there). NODE_IMAGE picks the base: any image with Node.js 22.19 or
# newer as `node` on the PATH (the official node images, or your own mirror of them).
#
# Run it with the working directory mounted (rollback.json, the report) and secrets from the
# environment or files, never flags:
#   docker run --rm -v "$PWD:/work" -e REGISTRY_USERNAME -e REGISTRY_PASSWORD fleet-rollback:0.1.0 get …
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE}

# The bin (scripts/fleet-rollback.js: Node version check, compile cache) loads dist/bin/cli.js,
# the command line bundled with everything it uses; package.json says these files are ES modules.
COPY package.json /opt/fleet-rollback/
COPY scripts/fleet-rollback.js scripts/supported-node.js scripts/compile-cache.js /opt/fleet-rollback/scripts/
COPY dist/bin/ /opt/fleet-rollback/dist/bin/

# No user database entry is needed for a numeric user. HOME is the container's own /tmp, where
# Node's compile cache goes (the container's /tmp is not shared with other users).
ENV HOME=/tmp \
    NODE_ENV=production
WORKDIR /work
USER 65532:65532

# The bin's V8 flag (see scripts/fleet-rollback.js): Node is started directly, no shell line.
ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/fleet-rollback/scripts/fleet-rollback.js"]
CMD ["--help"]
