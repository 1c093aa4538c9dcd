#!/usr/bin/env bash
# The image tier: builds the Dockerfile with buildah and proves the image works.
#
#   1. installs buildah, podman and debootstrap (Debian) if missing;
#   2. makes the base image with `debootstrap --variant=minbase bookworm` (cached as a tarball under
#      $HOME/.cache/ferrymq/images) and imports it under the exact name the Dockerfile's FROM uses, since no
#      registry can be pulled from;
#   3. `buildah bud --isolation chroot -t ferrymq:dev .` with the project's ccache bound into the build stage;
#   4. runs `ferrymq standalone` from the image (`buildah run --isolation chroot`; `podman run` fails on this
#      machine class), sends a message with the image's ferryctl and consumes it back;
#   5. reports build time and image size, and cleans up its container and processes.
#
# Environment: FMQ_JOBS (compile jobs, default 2), FMQ_IMAGE_MAX_MB (fail above this size, default 100),
# FMQ_IMAGE_KEEP=1 (keep the ferrymq:dev image; default kept as well, FMQ_IMAGE_KEEP=0 removes it).
# Last line on success: "image: ok, <size> MB, build <s>s".
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=localhost/ferrymq:dev
BASE_IMAGE=$(sed -nE 's/^ARG BASE_IMAGE=(.*)$/\1/p' Dockerfile | head -1)
[[ -n "$BASE_IMAGE" ]] || { echo "image: no 'ARG BASE_IMAGE=' in Dockerfile" >&2; exit 2; }
CACHE="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}"
CCACHE="${CCACHE_DIR:-$CACHE/ccache}"
JOBS="${FMQ_JOBS:-2}"
MAX_MB="${FMQ_IMAGE_MAX_MB:-100}"
MIRROR="${FMQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${FMQ_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Bump when the base recipe below changes: the cached tarball's name carries it.
BASE_RECIPE=1
BASE_TAR="$CACHE/images/debian-bookworm-minbase-r$BASE_RECIPE.tar"

log() { echo "image: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# --- 1. tools ---------------------------------------------------------------------------------------------------
missing=()
for p in buildah podman debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap and buildah with chroot isolation need it)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fmq-image.XXXXXX")
CTR=""
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  [[ -z "$CTR" ]] || buildah rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  if [[ "${FMQ_IMAGE_KEEP:-1}" == 0 ]]; then buildah rmi "$IMAGE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# --- 2. base image ----------------------------------------------------------------------------------------------
if [[ ! -s "$BASE_TAR" ]]; then
  t0=$(date +%s)
  log "debootstrap --variant=minbase bookworm (once; cached in $BASE_TAR)"
  mkdir -p "$(dirname "$BASE_TAR")"
  root="$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  # Like the official slim images: every suite with fixes, no recommends, no documentation or translations
  # from later installs, and nothing cached.
  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
  printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' \
    >"$root/etc/apt/apt.conf.d/90ferrymq-no-recommends"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    'path-exclude /usr/share/lintian/*' >"$root/etc/dpkg/dpkg.cfg.d/90ferrymq-slim"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
  tar --numeric-owner -C "$root" -cf "$BASE_TAR.tmp" .
  mv -f "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$root"
  log "base tarball $(du -m "$BASE_TAR" | cut -f1) MB in $(( $(date +%s) - t0 ))s"
fi
base_id=$(sha256sum "$BASE_TAR" | cut -c1-16)
have=$(podman image inspect --format '{{index .Labels "io.ferrymq.base"}}' "$BASE_IMAGE" 2>/dev/null || true)
if [[ "$have" != "$base_id" ]]; then
  log "importing $BASE_TAR as $BASE_IMAGE"
  podman import --quiet --change "LABEL io.ferrymq.base=$base_id" --change 'CMD ["bash"]' \
    "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi

# --- 3. build ---------------------------------------------------------------------------------------------------
mkdir -p "$CCACHE"
t0=$(date +%s)
# The deps stage gets a tag so that removing stale build layers afterwards keeps the (slow) apt layer cached.
buildah bud --isolation chroot --layers --pull-never --target deps -t localhost/ferrymq-build-deps:dev . \
  >"$WORK/deps.log" 2>&1 || { tail -40 "$WORK/deps.log" >&2; die "buildah bud --target deps failed"; }
log "buildah bud --isolation chroot -t $IMAGE . (ccache $CCACHE, $JOBS jobs)"
if ! buildah bud --isolation chroot --layers --pull-never -t "$IMAGE" \
    --build-arg "FMQ_JOBS=$JOBS" --build-arg FMQ_CCACHE_DIR=/var/cache/ccache-host \
    -v "$CCACHE:/var/cache/ccache-host:rw" . 2>&1 | tee "$WORK/build.log" |
    { grep -E '^(\[[0-9]/[0-9]\] )?(STEP [0-9]+/[0-9]+: (FROM|RUN --mount)|COMMIT)|^runtime packages|^ *(Hits|Misses):' >&2 ||
      true; }; then
  tail -40 "$WORK/build.log" >&2
  die "buildah bud failed"
fi
build_s=$(( $(date +%s) - t0 ))
# Each source change leaves an untagged build-stage image holding that build's sources; remove ours (labelled
# io.ferrymq.stage=build), never anything else. Their objects live on in ccache.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  stale=$(buildah images --noheading --filter dangling=true --filter label=io.ferrymq.stage=build --format '{{.ID}}')
  [[ -n "$stale" ]] || break
  buildah rmi $stale >/dev/null 2>&1 || break
done
size_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
size_mb=$(( (size_bytes + 524288) / 1048576 ))
log "built $IMAGE in ${build_s}s, size $size_mb MB"

# --- 4. run ferrymq standalone from the image and round-trip a message with its ferryctl ------------------------
CTR=$(buildah from --pull-never --name "fmq-image-test-$$" "$IMAGE")
programs=(ferrymq ferryctl ferrymq-bench)
if grep -qs 'add_executable(ferrymq-operator' operator/cmd/CMakeLists.txt; then programs+=(ferrymq-operator); fi
for p in "${programs[@]}"; do
  # Every program starts and prints its usage (exit 0, or 2 for "unknown mode"), i.e. its shared libraries are
  # all in the runtime stage; a missing library would exit 127 before main().
  rc=0; buildah run --isolation chroot "$CTR" -- "/usr/local/bin/$p" --help >"$WORK/help.txt" 2>&1 || rc=$?
  if ! { [[ $rc -eq 0 || $rc -eq 2 ]] && grep -qi '^usage: ' "$WORK/help.txt"; }; then
    cat "$WORK/help.txt" >&2; die "/usr/local/bin/$p --help failed in the image (exit $rc)"
  fi
done
log "programs in the image: ${programs[*]}"
[[ "$(buildah run --isolation chroot "$CTR" -- id -u)" == 65532 ]] || die "the image does not run as uid 65532"
# Ports far from the defaults so a broker running on the host is not disturbed.
NS_PORT=$(( 31000 + RANDOM % 2000 ))
BROKER_PORT=$(( NS_PORT + 2000 ))
setsid buildah run --isolation chroot "$CTR" -- \
  ferrymq standalone -d /var/lib/ferrymq --namesrv-port "$NS_PORT" --broker-port "$BROKER_PORT" \
  --set cleanFileForciblyEnable=false --set diskSpaceWarningLevelRatio=0.999 \
  >"$WORK/standalone.log" 2>&1 &
SERVER_PID=$!
ctl() { buildah run --isolation chroot "$CTR" -- ferryctl -n "127.0.0.1:$NS_PORT" "$@"; }
deadline=$(( $(date +%s) + 60 ))
until grep -q 'ferrymq standalone: name server' "$WORK/standalone.log" 2>/dev/null; do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/standalone.log" >&2; die "ferrymq standalone exited"; }
  (( $(date +%s) < deadline )) || { cat "$WORK/standalone.log" >&2; die "ferrymq standalone did not start in 60s"; }
  sleep 0.2
done
until ctl cluster list >"$WORK/cluster.txt" 2>&1 && grep -q "127.0.0.1:$BROKER_PORT" "$WORK/cluster.txt"; do
  (( $(date +%s) < deadline )) || { cat "$WORK/cluster.txt" "$WORK/standalone.log" >&2; die "broker never registered"; }
  sleep 0.2
done
body="image-roundtrip-$$-$RANDOM"
ctl topic create ImageTest -q 1 >"$WORK/topic.txt" 2>&1 || { cat "$WORK/topic.txt" >&2; die "topic create failed"; }
ctl send ImageTest "$body" >"$WORK/send.txt" 2>&1 || { cat "$WORK/send.txt" >&2; die "ferryctl send failed"; }
ctl consume ImageTest --from-beginning --count 1 --timeout 30 >"$WORK/consume.txt" 2>&1 ||
  { cat "$WORK/send.txt" "$WORK/consume.txt" >&2; die "ferryctl consume failed"; }
grep -q "$body" "$WORK/consume.txt" ||
  { cat "$WORK/send.txt" "$WORK/consume.txt" >&2; die "round trip: the consumed message is not the one sent"; }
log "round trip through the image's ferrymq standalone: sent and consumed '$body'"

kill -TERM -- "-$SERVER_PID"
deadline=$(( $(date +%s) + 30 ))
while kill -0 "$SERVER_PID" 2>/dev/null; do
  (( $(date +%s) < deadline )) || die "ferrymq standalone did not stop on SIGTERM within 30s"
  sleep 0.2
done
wait "$SERVER_PID" || true
SERVER_PID=""

if (( size_mb > MAX_MB )); then
  podman history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-160 >&2 || true
  die "image is $size_mb MB, above FMQ_IMAGE_MAX_MB=$MAX_MB"
fi
echo "image: ok, $size_mb MB, build ${build_s}s"
