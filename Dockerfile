# syntax=docker/dockerfile:1
# kfp-publish image: a Debian 12 build stage that compiles one Release binary (everything but glibc
# linked statically, cmake/static_link.cmake), and a `scratch` final stage holding only that binary,
# the C library and loader it loads, the CA bundle, a passwd entry for the nonroot user (65532)
# and the SBOM. The file list comes from ci/scripts/image-files.sh, the same script
# the empty-root tests run (tests/integration/test_deploy_image.py), so what is tested is what ships.
#
# Multi-arch: the build stage runs on the build machine's platform and cross-compiles for
# TARGETARCH with Debian's cross toolchain and :arm64 libraries; nothing built for the target runs.
#   docker buildx build --platform linux/amd64,linux/arm64 -t kfp-publish:dev .
#   make image / make image-arm64    (buildah, no Docker engine needed; see ci/scripts/image-build.sh)

ARG DEBIAN_IMAGE=debian:12

FROM --platform=$BUILDPLATFORM ${DEBIAN_IMAGE} AS build
ARG TARGETARCH
WORKDIR /src
# Dependencies first, in their own layer: they change far less often than the sources.
COPY ci/scripts/install-deps.sh ci/scripts/install-deps.sh
RUN ci/scripts/install-deps.sh --target "${TARGETARCH:?}" && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY agent/ agent/
# agent/CMakeLists.txt embeds manifest files into the binary (cmake/embed.cmake).
COPY manifests/ manifests/
COPY ci/scripts/image-compile.sh ci/scripts/image-compile.sh
# The Release binary for TARGETARCH, stripped: /build/kfp-publish (and the link map the SBOM reads).
RUN ci/scripts/image-compile.sh "$TARGETARCH" /build
COPY ci/scripts/image-files.sh ci/scripts/image-sbom.py ci/scripts/
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unset
RUN ci/scripts/image-files.sh --stage /rootfs /build/kfp-publish \
 && mkdir -p /rootfs/usr/share/doc/kfp-publish \
 && ci/scripts/image-sbom.py --build-dir /build --root /rootfs --version "$VERSION" --revision "$REVISION" \
      --source "$SOURCE" > /rootfs/usr/share/doc/kfp-publish/sbom.cdx.json

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unset
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="kfp-publish" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="${LICENSES}"
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /tmp
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/kfp-publish"]
CMD ["--help"]
