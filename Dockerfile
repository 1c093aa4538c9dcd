# syntax=docker/dockerfile:1
# FerryMQ: one image for the name server, the broker, ferryctl, ferrymq-bench and the operator.
#
#   buildah bud --isolation chroot -t ferrymq:dev .          (what scripts/image_test.sh does, tested)
#   docker build -t ferrymq:dev .                             (BuildKit; not exercised by the tests)
#
# Build arguments:
#   BASE_IMAGE      Debian bookworm base of both stages (scripts/image_test.sh imports a debootstrap'ed one
#                   under this exact name, because no registry can be pulled from there)
#   FMQ_JOBS        parallel compile jobs (default 2)
#   FMQ_CCACHE_DIR  ccache directory inside the build stage; default a build cache mount. image_test.sh binds the
#                   project's ccache ($HOME/.cache/ferrymq/ccache) there instead, so warm builds are fast.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# ---- deps: the build dependencies, scripts/setup.sh's list (the --image subset), so they never drift apart -----
FROM ${BASE_IMAGE} AS deps
# Marks the build stages' layers: scripts/image_test.sh removes stale ones after a build.
LABEL io.ferrymq.stage=build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/setup.sh /tmp/setup.sh
RUN bash /tmp/setup.sh --image && apt-get clean && rm -rf /var/lib/apt/lists/*

# ---- build: compile the release preset and install every program with `cmake --install --strip` -------------
FROM deps AS build
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY tests/CMakeLists.txt tests/CMakeLists.txt
COPY bench bench
COPY broker broker
COPY operator operator

ARG FMQ_JOBS=2
ARG FMQ_CCACHE_DIR=/var/cache/ccache
# Every program that exists is built and installed: the install rule in CMakeLists.txt lists ferrymq, ferryctl,
# ferrymq-bench and ferrymq-operator and skips those this tree does not define. Then the runtime stage's package
# list is derived from the programs' shared libraries (ldd -> dpkg -S). The build tree is removed in the same
# step (ccache keeps the objects), so the cached layer stays small.
RUN --mount=type=cache,id=ferrymq-ccache,target=/var/cache/ccache \
    set -eu; \
    export CCACHE_DIR="$FMQ_CCACHE_DIR" CCACHE_BASEDIR=/src; \
    cmake --preset release -DFMQ_BUILD_TESTS=OFF -DFMQ_BUILD_BENCH=OFF >/dev/null; \
    cmake --build --preset release -j "$FMQ_JOBS"; \
    cmake --install build/release --prefix /out --strip; \
    ccache --show-stats | grep -E '^ *(Hits|Misses):' | head -2 || true; \
    ls -l /out/bin; \
    for f in /out/bin/*; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u >/tmp/libs; \
    : >/tmp/packages; \
    while read -r lib; do \
      alt="/usr$lib"; case "$lib" in /usr/*) alt="${lib#/usr}";; esac; \
      pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$alt" 2>/dev/null) || { echo "no package owns $lib" >&2; exit 1; }; \
      echo "${pkg%%:*}" >>/tmp/packages; \
    done </tmp/libs; \
    sort -u /tmp/packages >/out/runtime-packages; \
    echo "runtime packages: $(tr '\n' ' ' </out/runtime-packages)"; \
    rm -rf build /tmp/libs /tmp/packages

# ---- runtime: the base plus the programs' shared libraries -----------------------------------------------------
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="FerryMQ" \
      org.opencontainers.image.description="RocketMQ-compatible message broker, its CLI, load generator and Kubernetes operator" \
      org.opencontainers.image.version="0.1.0"
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# No documentation, manual pages or translations from the packages installed here; no apt lists left behind.
RUN set -eu; \
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' >/etc/dpkg/dpkg.cfg.d/ferrymq-slim; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends $(cat /tmp/runtime-packages) >/dev/null; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old \
      /var/log/apt /var/log/dpkg.log /tmp/runtime-packages; \
    groupadd --gid 65532 ferrymq; \
    useradd --uid 65532 --gid 65532 --home-dir /var/lib/ferrymq --no-create-home --shell /usr/sbin/nologin ferrymq; \
    install -d -o 65532 -g 65532 -m 0750 /var/lib/ferrymq; \
    install -d -m 0755 /etc/ferrymq
COPY --from=build /out/bin/ /usr/local/bin/
USER 65532:65532
WORKDIR /var/lib/ferrymq
# 9876 name server, 10911 broker, 10909 its VIP channel, 10912 replication, 5557 broker metrics, 8080/8081
# operator metrics and probes.
EXPOSE 9876 10909 10911 10912 5557 8080 8081
CMD ["ferrymq", "standalone", "-d", "/var/lib/ferrymq"]
