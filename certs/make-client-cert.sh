#!/usr/bin/env bash
# Makes a client certificate the way a cluster CA issues them to users, with openssl:
# the subject's CN is the Kubernetes username and each O a group.
#   certs/make-client-cert.sh CA_DIR NAME USERNAME [GROUP...]
# Creates CA_DIR/client-ca.crt + client-ca.key when they do not exist yet, then writes
# CA_DIR/NAME.crt and CA_DIR/NAME.key (keys 0600). `kubegate dev` uses it for the local
# cluster's client CA (kube-apiserver --client-ca-file, kubegate tls.client_ca).
# Tests may set CERT_SUBJECT (a raw openssl -subj, replacing USERNAME/GROUPs) and CERT_EKU
# (default clientAuth) to make certificates kubegate must refuse.
set -euo pipefail
ca_dir="${1:?usage: make-client-cert.sh CA_DIR NAME USERNAME [GROUP...]}"
name="${2:?name}"
user="${3:?username}"
shift 3
mkdir -p "$ca_dir"
umask 077
# openssl -subj syntax: escape the characters it treats specially
esc() { printf '%s' "$1" | sed 's/[\\/+=]/\\&/g'; }
subj=""
for g in "$@"; do subj="$subj/O=$(esc "$g")"; done
subj="$subj/CN=$(esc "$user")"
subj="${CERT_SUBJECT:-$subj}"
eku="${CERT_EKU:-clientAuth}"

if [[ ! -f "$ca_dir/client-ca.key" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=kubegate dev client CA" -keyout "$ca_dir/client-ca.key" -out "$ca_dir/client-ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 644 "$ca_dir/client-ca.crt"
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
  -keyout "$ca_dir/$name.key" -out "$ca_dir/$name.csr" 2>/dev/null
openssl x509 -req -in "$ca_dir/$name.csr" -CA "$ca_dir/client-ca.crt" -CAkey "$ca_dir/client-ca.key" \
  -CAcreateserial -days 365 -out "$ca_dir/$name.crt" \
  -extfile <(printf 'extendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\n' "$eku") 2>/dev/null
rm -f "$ca_dir/$name.csr" "$ca_dir/client-ca.srl"
chmod 644 "$ca_dir/$name.crt"
