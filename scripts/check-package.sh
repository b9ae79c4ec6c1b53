#!/usr/bin/env bash
# Builds the Debian package from a release build tree and checks it (packaging/README.md):
#   1. cpack -G DEB (after configuring again, so that the version names the current commit)
#   2. lintian reports no error (its warnings are printed; docs/package.md says why each one
#      that is left stays)
#   3. dpkg -i; the installed binary checks the example config (-t) and names its commit (-V);
#      systemd-analyze verify on the installed unit; the unit's command line run as the system
#      user (on free ports), and the log rotated with the package's logrotate rule: the proxy
#      must write to the new file

#   4. dpkg -r leaves only the conffiles; dpkg -P removes them, the logs and the unit's links
# Needs root. Whatever happens, the package is purged again on exit (trap), so a run leaves
# the machine as it found it and can be repeated. It refuses to touch a switchyard package
# that it did not install.
# Usage: scripts/check-package.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build/release}
started=$(date +%s.%N)

fail() { echo "check-package: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i)"
if dpkg-query -W -f='${db:Status-Status}' switchyard 2>/dev/null | grep -qv '^not-installed$'; then
  fail "a switchyard package is already on this machine; 'dpkg -P switchyard' first"
fi

installed=0
proxy_pid=
work=$(mktemp -d /tmp/switchyard-package.XXXXXX)
cleanup() {
  if [ -n "$proxy_pid" ]; then
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  rm -rf /run/switchyard
  if [ "$installed" = 1 ]; then
    dpkg -P switchyard >/dev/null 2>&1 || echo "check-package: dpkg -P switchyard failed" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "check-package: building the package"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" --target switchyard sy_man sy_package_doc >/dev/null
rm -rf "$build/package"
(cd "$build" && cpack -G DEB >"$work/cpack.log") || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$build"/package/switchyard_*.deb)
echo "check-package: $(basename "$deb")"
dpkg-deb --info "$deb" | grep -E '^ (Version|Depends):'

echo "check-package: lintian"
lintian --fail-on error --tag-display-limit 0 "$deb" | tee "$work/lintian.txt" \
  || fail "lintian reports errors"

echo "check-package: dpkg -i"
installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
/usr/bin/switchyard -t -c /etc/switchyard/switchyard.yml
version=$(/usr/bin/switchyard -V)
commit=$(git -C "$root" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
[[ "$version" == *"$commit"* ]] || fail "-V says '$version', not commit $commit"
id switchyard >/dev/null || fail "no system user switchyard"
[ "$(stat -c %U /var/log/switchyard)" = switchyard ] || fail "/var/log/switchyard is not switchyard's"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' switchyard | awk 'NF { print $1 }')
[ "$conffiles" = "$(printf '/etc/logrotate.d/switchyard\n/etc/switchyard/switchyard.yml')" ] \
  || fail "conffiles are: $conffiles"
[ -f /usr/share/man/man1/switchyard.1.gz ] && [ -f /usr/share/man/man5/switchyard.yml.5.gz ] \
  || fail "man pages missing"

echo "check-package: systemd-analyze verify"
# It reads unit files and needs no running systemd (here, possibly, a container without one).
# It also looks up the unit's Documentation= man pages, when man is installed.
man_check=no
command -v man >/dev/null && man_check=yes
if ! systemd-analyze verify --man="$man_check" /lib/systemd/system/switchyard.service \
    >"$work/verify.txt" 2>&1 || grep -q . "$work/verify.txt"; then
  cat "$work/verify.txt"
  fail "systemd-analyze verify has remarks about the unit"
fi

echo "check-package: the service as its user, and a log rotation"
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# systemd would make /run/switchyard (RuntimeDirectory); the config is the example's, on a
# free port.
mkdir -p /run/switchyard
chown switchyard:switchyard /run/switchyard
sed "s/127\.0\.0\.1:22121/127.0.0.1:$(free_port)/" /etc/switchyard/switchyard.yml \
  >/run/switchyard/check.yml
chmod 644 /run/switchyard/check.yml
log=/var/log/switchyard/switchyard.log
setpriv --reuid=switchyard --regid=switchyard --init-groups \
  /usr/bin/switchyard -c /run/switchyard/check.yml -o "$log" -a 127.0.0.1 -s "$(free_port)" \
  -p /run/switchyard/switchyard.pid &
proxy_pid=$!
wait_for() {  # wait_for <file> <text>: up to 10 s
  for _ in $(seq 100); do
    grep -qF "$2" "$1" 2>/dev/null && return 0
    kill -0 "$proxy_pid" 2>/dev/null || fail "switchyard exited; log: $(cat "$log" 2>&1)"
    sleep 0.1
  done
  fail "no '$2' in $1 within 10 s"
}
wait_for "$log" "ready: every listener is open"
logrotate -s "$work/logrotate.state" -f /etc/logrotate.d/switchyard
wait_for "$log" "log file '$log' reopened"
wait_for "$log" "reload applied"
[ -f "$log.1" ] || fail "logrotate made no $log.1"
[ "$(stat -c %U "$log")" = switchyard ] || fail "the new log file is not switchyard's"
kill "$proxy_pid"
wait "$proxy_pid" || fail "switchyard exited with $? on SIGTERM"
proxy_pid=
rm -rf /run/switchyard

echo "check-package: dpkg -r"
dpkg-query -L switchyard >"$work/files"
dpkg -r switchyard >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -r failed"; }
left=()
while read -r path; do
  if [ -e "$path" ] && [ ! -d "$path" ] && ! grep -qx "$path" <<<"$conffiles"; then
    left+=("$path")
  fi
done <"$work/files"
[ "${#left[@]}" -eq 0 ] || fail "dpkg -r left ${left[*]}"
while read -r path; do
  [ -f "$path" ] || fail "dpkg -r removed the conffile $path"
done <<<"$conffiles"
[ ! -e /etc/systemd/system/multi-user.target.wants/switchyard.service ] \
  || fail "dpkg -r left the unit enabled"

echo "check-package: dpkg -P"
dpkg -P switchyard >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -P failed"; }
installed=0
for path in /etc/switchyard /etc/logrotate.d/switchyard /var/log/switchyard \
            /var/lib/systemd/deb-systemd-helper-enabled/switchyard.service.dsh-also; do
  [ ! -e "$path" ] || fail "dpkg -P left $path"
done
echo "check-package: ok in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
