# syntax=docker/dockerfile:1
# kfp-publish image: a Debian 12 build stage, and a `scratch` final stage holding only the binary,
# the shared libraries it loads, the CA bundle and a passwd entry for the nonroot user (65532).
# The file list comes from ci/scripts/image-files.sh, the same script the empty-root test runs
# (tests/integration/test_deploy_image.py), so what is tested is what ships.
#
#   docker build -t kfp-publish:dev .
#   docker run --rm kfp-publish:dev version

ARG DEBIAN_IMAGE=debian:12

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Dependencies first, in their own layer: they change far less often than the sources.
COPY ci/scripts/install-deps.sh ci/scripts/install-deps.sh
RUN ci/scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY agent/ agent/
COPY ci/scripts/image-files.sh ci/scripts/image-files.sh
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKFP_BUILD_TESTS=OFF -DKFP_WERROR=ON \
 && cmake --build /build --target kfp-publish \
 && strip --strip-unneeded /build/agent/kfp-publish \
 && ci/scripts/image-files.sh --stage /rootfs /build/agent/kfp-publish \
 && chroot --userspec=65532:65532 /rootfs /usr/local/bin/kfp-publish version

# scratch rather than distroless/cc: the binary also needs yaml-cpp, libarchive (and its
# compression libraries) and Boost, which distroless/cc lacks, so we would copy libraries anyway;
# copying the exact ldd closure onto scratch makes the image equal to the tested root.
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /tmp
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/kfp-publish"]
CMD ["--help"]
