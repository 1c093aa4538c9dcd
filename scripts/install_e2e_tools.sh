#!/usr/bin/env bash
# Installs the tools of the e2e tier (tests/e2e): a real Kubernetes control plane and helm, at pinned versions.
#
#   scripts/install_e2e_tools.sh          # prints the bin dir on its last line
#
# Into ${FMQ_TOOLS_DIR:-$HOME/.cache/ferrymq/tools}/bin:
#   kube-apiserver, kube-controller-manager, kubectl   k8s.io/kubernetes $K8S_VERSION, built with Go from the Go
#                                                       module proxy (staging modules pinned to $K8S_STAGING)
#   helm                                                helm.sh/helm/v3 $HELM_VERSION
#   etcd                                                go.etcd.io/etcd/server/v3 $ETCD_VERSION
# plus the Debian packages the pod runner uses (iproute2, openssl, util-linux, procps).
#
# Each tool has a stamp file (tools/stamps/<tool>) naming its version and the Go version that built it; when every
# stamp matches, the script does nothing but print the bin dir. Go caches: $HOME/.cache/ferrymq/go/{mod,build}.
# A cold run builds ~3 large Go programs: on 2 cores expect 20-40 minutes (GOMAXPROCS and -p follow FMQ_JOBS,
# default 2). The build is niced so the machine stays usable.
set -euo pipefail

K8S_VERSION=v1.35.4
K8S_STAGING=v0.35.4
HELM_VERSION=v3.20.2
ETCD_VERSION=v3.6.5

TOOLS="${FMQ_TOOLS_DIR:-$HOME/.cache/ferrymq/tools}"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
CACHE="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}"
JOBS="${FMQ_JOBS:-2}"

log() { echo "install_e2e_tools: $*" >&2; }
die() { log "error: $*"; exit 2; }

# --- Debian packages -----------------------------------------------------------------------------------------
PACKAGES=(iproute2 openssl util-linux mount procps ca-certificates curl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Go tools ------------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH (the machine image provides Go 1.25+)"
GO_VERSION=$(go env GOVERSION)
mkdir -p "$BIN" "$STAMPS"

stamp_ok() {  # $1 = tool name, $2 = wanted stamp text; true if the stamp matches and the binaries exist
  local name=$1 want=$2; shift 2
  [[ -f "$STAMPS/$name" && "$(cat "$STAMPS/$name")" == "$want" ]] || return 1
  local b; for b in "$@"; do [[ -x "$BIN/$b" ]] || return 1; done
}

export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
export GOMAXPROCS="$JOBS" GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
mkdir -p "$GOMODCACHE" "$GOCACHE"

# A temporary build module per tool; removed on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fmq-e2e-tools.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

etcd_stamp="etcd $ETCD_VERSION $GO_VERSION"
if ! stamp_ok etcd "$etcd_stamp" etcd; then
  t0=$(date +%s)
  log "building etcd $ETCD_VERSION"
  d="$WORK/etcd"; mkdir -p "$d"
  # The etcd server's entry point is the library function etcdmain.Main; a two-line main package calls it.
  printf 'module ferrymq.local/e2e-tools/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$d/go.mod"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
    >"$d/main.go"
  (cd "$d" && nice go mod tidy >"$d/get.log" 2>&1) || { cat "$d/get.log" >&2; die "go mod tidy (etcd) failed"; }
  (cd "$d" && nice go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" .) || die "go build etcd failed"
  mv -f "$BIN/etcd.tmp" "$BIN/etcd"
  echo "$etcd_stamp" >"$STAMPS/etcd"
  log "etcd built in $(( $(date +%s) - t0 ))s"
fi

k8s_stamp="kubernetes $K8S_VERSION staging $K8S_STAGING $GO_VERSION"
if ! stamp_ok kubernetes "$k8s_stamp" kube-apiserver kube-controller-manager kubectl; then
  t0=$(date +%s)
  log "building kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION with $GO_VERSION (slow, once)"
  d="$WORK/kubernetes"; mkdir -p "$d"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and points them at ./staging with replace directives,
  # which only apply inside its own repository: pin each to its published version here.
  staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
    code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib
    dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
    kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
    sample-controller)
  {
    echo "module ferrymq.local/e2e-tools/kubernetes"
    echo
    echo "go 1.25.0"
    echo
    echo "godebug default=go1.25"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING"; done
    echo ")"
  } >"$d/go.mod"
  pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
  minor=$(cut -d. -f2 <<<"$K8S_VERSION")
  ver_ldflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ver_ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ver_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$d" && nice go get "${pkgs[@]/%/@$K8S_VERSION}" >"$d/get.log" 2>&1) ||
    { cat "$d/get.log" >&2; die "go get k8s.io/kubernetes $K8S_VERSION failed (needs the Go module proxy once)"; }
  for p in "${pkgs[@]}"; do
    name=$(basename "$p")
    (cd "$d" && nice go build -p "$JOBS" -trimpath -ldflags "-s -w$ver_ldflags" -o "$BIN/$name.tmp" "$p") ||
      die "go build $p failed"
    mv -f "$BIN/$name.tmp" "$BIN/$name"
  done
  echo "$k8s_stamp" >"$STAMPS/kubernetes"
  log "kubernetes tools built in $(( $(date +%s) - t0 ))s"
fi

helm_stamp="helm $HELM_VERSION $GO_VERSION"
if ! stamp_ok helm "$helm_stamp" helm; then
  t0=$(date +%s)
  log "building helm $HELM_VERSION"
  d="$WORK/helm"; mkdir -p "$d"
  printf 'module ferrymq.local/e2e-tools/helm\n\ngo 1.25.0\n\nrequire helm.sh/helm/v3 %s\n' "$HELM_VERSION" >"$d/go.mod"
  (cd "$d" && nice go get "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$d/get.log" 2>&1) ||
    { cat "$d/get.log" >&2; die "go get helm $HELM_VERSION failed"; }
  (cd "$d" && nice go build -p "$JOBS" -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      -o "$BIN/helm.tmp" helm.sh/helm/v3/cmd/helm) || die "go build helm failed"
  mv -f "$BIN/helm.tmp" "$BIN/helm"
  echo "$helm_stamp" >"$STAMPS/helm"
  log "helm built in $(( $(date +%s) - t0 ))s"
fi

echo "$BIN"
