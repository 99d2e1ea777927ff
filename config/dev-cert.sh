#!/usr/bin/env bash
# Makes a self-signed development certificate for PoolAI (CN=localhost, SAN localhost and 127.0.0.1, 30 days) as a
# PKCS #12 file, for HTTPS on the gateway and for TLS between silos and clients. Keep it out of the repository.
#   bash config/dev-cert.sh [DIR]      (default DIR: $POOLAI_HOME/certs, else ~/.poolai/certs)
# The password is DEV_CERT_PASSWORD if set, otherwise random; the script prints the settings to export.
set -euo pipefail
DIR=${1:-${POOLAI_HOME:-$HOME/.poolai}/certs}
PASSWORD=${DEV_CERT_PASSWORD:-$(openssl rand -hex 16)}
mkdir -p "$DIR"
chmod 700 "$DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "extendedKeyUsage=serverAuth,clientAuth" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2> /dev/null
openssl pkcs12 -export -out "$DIR/poolai-dev.pfx" -inkey "$WORK/key.pem" -in "$WORK/cert.pem" -passout "pass:$PASSWORD"
cp "$WORK/cert.pem" "$DIR/poolai-dev.crt"
chmod 600 "$DIR/poolai-dev.pfx"
cat <<OUT
# HTTPS on the gateway:
export Kestrel__Endpoints__Https__Url=https://127.0.0.1:5443
export Kestrel__Endpoints__Https__Certificate__Path=$DIR/poolai-dev.pfx
export Kestrel__Endpoints__Https__Certificate__Password=$PASSWORD
# TLS between silos and clients (set on every silo, gateway and poolai of the pool):
export PoolAI__Cluster__Tls__CertificatePath=$DIR/poolai-dev.pfx
export PoolAI__Cluster__Tls__CertificatePassword=$PASSWORD
# Clients that check the gateway's certificate: trust $DIR/poolai-dev.crt
OUT
