#!/usr/bin/env bash
# Makes a development CA and a serving certificate for kubegate with openssl.
#   certs/make-dev-certs.sh OUT_DIR [extra SAN, e.g. DNS:kubegate.example.com ...]
# Writes ca.crt, ca.key, serving.crt, serving.key into OUT_DIR (keys 0600).
# Nothing here is committed: every install makes its own.
set -euo pipefail
out="${1:?usage: make-dev-certs.sh OUT_DIR [SAN...]}"
shift
mkdir -p "$out"
umask 077
sans="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:kubegate,DNS:kubegate.kubegate-system.svc"
for s in "$@"; do sans="$sans,$s"; done

if [[ ! -f "$out/ca.key" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=kubegate dev CA" -keyout "$out/ca.key" -out "$out/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=kubegate" \
  -keyout "$out/serving.key" -out "$out/serving.csr" 2>/dev/null
openssl x509 -req -in "$out/serving.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days 825 -out "$out/serving.crt" \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$sans") 2>/dev/null
rm -f "$out/serving.csr" "$out/ca.srl"
chmod 644 "$out/ca.crt" "$out/serving.crt"
echo "wrote $out/ca.crt $out/serving.crt $out/serving.key"
