#!/usr/bin/env bash
# Installs, idempotently, the Debian packages the end-to-end tests start privately (they never use a service
# the machine already runs). Needs root on Debian/Ubuntu; a machine that already has everything is left as is.
# Another apt or dpkg run (unattended-upgrades, a second terminal) is waited for, up to RUNBOOK_APT_LOCK_WAIT
# seconds (default 300). Every failure ends in one line saying what to run. RUNBOOK_PROVISION_ROOT prefixes the
# system paths this script writes or waits on (its own test points it at a scratch folder).
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
sysroot=${RUNBOOK_PROVISION_ROOT:-}
lock_wait=${RUNBOOK_APT_LOCK_WAIT:-300}
locks=("$sysroot/var/lib/dpkg/lock-frontend" "$sysroot/var/lib/dpkg/lock" "$sysroot/var/lib/apt/lists/lock")
log=${TMPDIR:-/tmp}/runbook-provision.log

fail() {
  echo "provision: $*" >&2
  exit 1
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "provision: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "missing Debian packages: ${missing[*]}; run 'sudo npm run provision'"
fi

# The pid holding a POSIX lock on a file, read from /proc/locks (dpkg and apt use fcntl locks; no lsof needed).
lock_holder() {
  local file=$1 inode pid fd
  [ -e "$file" ] || return 0
  inode=$(stat -c %i "$file")
  for pid in $(awk -v suffix=":$inode" '$2 != "->" && substr($6, length($6) - length(suffix) + 1) == suffix { print $5 }' /proc/locks); do
    # The inode alone could belong to another filesystem: the holder must have this very file open.
    for fd in /proc/"$pid"/fd/*; do
      if [ "$(readlink "$fd" 2>/dev/null)" = "$file" ]; then
        echo "$pid"
        return 0
      fi
    done
  done
}

wait_for_apt() {
  local file pid waited=0 told=''
  for file in "${locks[@]}"; do
    while pid=$(lock_holder "$file") && [ -n "$pid" ]; do
      local who
      who="$(ps -o comm= -p "$pid" 2>/dev/null || echo '?') (pid $pid)"
      if [ "$waited" -ge "$lock_wait" ]; then
        fail "gave up after ${lock_wait} s: $who still holds $file; run 'sudo npm run provision' once it has finished"
      fi
      if [ "$told" != "$pid $file" ]; then
        echo "provision: waiting for $who to release $file (another package operation; up to ${lock_wait} s)"
        told="$pid $file"
      fi
      sleep 1
      waited=$((waited + 1))
    done
  done
}

# Runs apt-get with its output in the log, printing each package as dpkg sets it up.
apt() {
  local what=$1 status=0
  shift
  apt-get -q -o DPkg::Lock::Timeout="$lock_wait" "$@" 2>&1 | tee -a "$log" |
    sed -nu 's/^Setting up \([^ ]*\) (\([^)]*\)).*/provision:   set up \1 \2/p' || status=$?
  if [ "$status" -ne 0 ]; then
    local reason
    reason=$(grep -E '^(E|W): ' "$log" | tail -n 1 || true)
    fail "$what failed${reason:+ ($reason)}; the full output is in $log. Fix that, then run 'sudo npm run provision'"
  fi
}

: >"$log"
# Packages must not start their system services: the tests start private instances on their own ports.
policy=$sysroot/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive

wait_for_apt
echo "provision: updating the package lists"
apt 'apt-get update' update
echo "provision: installing ${missing[*]} (and what they need)"
apt 'apt-get install' install -y --no-install-recommends "${missing[@]}"
echo "provision: done"
