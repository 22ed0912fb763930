# The server's image: one static binary in an otherwise empty (scratch) image, for linux/amd64 and linux/arm64.
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t asm-web-service .     (a current Docker)
#   DOCKER_BUILDKIT=1 /usr/bin/docker build --platform linux/arm64 -t asm-web-service .  (Debian's Docker 20.10)
#
# The build stage runs on the build machine's own platform and cross-assembles for TARGETARCH with the project's
# one build definition, asm/build.sh. Build arguments: IMAGE_SIZE (bytes, shown on the page; `npm run build:image`
# measures it and builds again), REPO_URL (the page's link), VERSION and REVISION (labels).
# No `# syntax=` line: BuildKit would try to pull a frontend image, which fails where no registry is reachable.

ARG DEBIAN_IMAGE=debian:bookworm-20250811-slim

FROM --platform=$BUILDPLATFORM ${DEBIAN_IMAGE} AS build
# Both binutils, so either build platform (amd64 or arm64) can link either target; nasm for the x86_64 tree.
# Installed before TARGETARCH is declared, so both targets share this layer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      nasm binutils-x86-64-linux-gnu binutils-aarch64-linux-gnu \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json ./
COPY asm/ asm/
ARG TARGETARCH
ARG IMAGE_SIZE=
ARG REPO_URL=
RUN REPO_URL="$REPO_URL" IMAGE_SIZE="$IMAGE_SIZE" sh asm/build.sh "$TARGETARCH"

FROM scratch
ARG TARGETARCH
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG REPO_URL=https://github.com/asm-web-service/asm-web-service
COPY --from=build /src/build/linux-${TARGETARCH}/asm-web-service /asm-web-service
# Numeric, so Kubernetes' runAsNonRoot can check it without an /etc/passwd.
USER 65532:65532
EXPOSE 8080
# The binary's own probe: scratch has no shell or curl. Docker runs it; Kubernetes ignores it and uses its probes.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/asm-web-service", "health"]
ENTRYPOINT ["/asm-web-service"]
LABEL org.opencontainers.image.title="asm-web-service" \
      org.opencontainers.image.description="An HTTP server in pure assembly (x86_64 and arm64): one static binary, no libc." \
      org.opencontainers.image.source="${REPO_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"
