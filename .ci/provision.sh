#!/usr/bin/env bash
# Installs, idempotently, the Debian packages the end-to-end tests start privately (they never use a service
# the machine already runs). Needs root on Debian/Ubuntu; a machine that already has everything is left as is.
set -euo pipefail

packages=(
  postgresql postgresql-client
  mariadb-server mariadb-client
  nginx-light
  openssh-server openssh-client
  supervisor gunicorn
  python3-django python3-psycopg2 python3-mysqldb python3-coverage
  iproute2 wrk git ca-certificates openssl procps curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "provision: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "provision: missing Debian packages: ${missing[*]}; run 'sudo npm run provision'" >&2
  exit 1
fi
echo "provision: installing ${missing[*]}"
# Packages must not start their system services: the tests start private instances on their own ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "provision: done"
