# syntax=docker/dockerfile:1
# Palisade in one static-ish binary on distroless, as a non-root user.
#
#   docker build -t ghcr.io/palisade-dev/palisade:0.1.0 .
#
# The eBPF sensor (default feature `sensor`) needs clang, bpftool and libelf at
# build time; the runtime image needs nothing but glibc (distroless/cc).

ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-bookworm AS build
# Build tools only (none reach the runtime image), from the base image's Debian
# release; pinning exact versions would break on every point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang llvm libelf-dev zlib1g-dev pkg-config bpftool \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Cache the registry and the target directory between builds; copy the binary
# out of the cache mount so the next stage can see it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p palisade \
    && install -D -m 0755 target/release/palisade /out/palisade \
    && ln -s palisade /out/kubectl-palisade

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/palisade /usr/local/bin/palisade
COPY --from=build /out/kubectl-palisade /usr/local/bin/kubectl-palisade
# 65532 is distroless' nonroot user; numeric so that runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/palisade"]
CMD ["--help"]
