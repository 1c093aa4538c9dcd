#!/usr/bin/env bash
# Makes a throw-away PKI with the openssl command for TLS checks and benchmarks: <dir>/ca.pem (CA), and for
# "server" and "client" a P-256 key (<name>.key, PKCS#8, which Java's netty reads) and a certificate
# (<name>.pem) for 127.0.0.1 with serverAuth and clientAuth, valid two days. Never for production.
#
#   scripts/make_test_pki.sh <dir>
set -euo pipefail
dir=${1:?usage: scripts/make_test_pki.sh <dir>}
command -v openssl >/dev/null || { echo "make_test_pki: the openssl command is needed (Debian package openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
{
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
  openssl req -x509 -new -key ca.key -subj "/CN=ferrymq-test-ca" -days 2 -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  for who in server client; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$who.key"
    openssl req -new -key "$who.key" -subj "/CN=ferrymq-$who" -out "$who.csr"
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n' >"$who.ext"
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$who.ext" -out "$who.pem"
  done
} >pki.log 2>&1 || { cat pki.log >&2; echo "make_test_pki: openssl failed" >&2; exit 1; }
chmod 600 ./*.key
