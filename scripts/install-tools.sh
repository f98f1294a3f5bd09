#!/usr/bin/env bash
# Installs the real Prometheus, promtool, Alertmanager and amtool from Debian's packages into
# .tools/bin without starting any daemon (apt-get download + dpkg-deb -x), and Debian's
# PostgreSQL server (the tests start their own cluster in a temporary directory; the
# package's own cluster is not created). Idempotent.
# Fails loudly when the packages cannot be fetched: the tests that need them must not skip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "install-tools: installing postgresql" >&2
    # Only the binaries are wanted: no cluster of the package's own, no server started.
    as_root mkdir -p /etc/postgresql-common
    [ -f /etc/postgresql-common/createcluster.conf ] ||
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; then
        as_root apt-get update >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
    fi
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null || { echo "install-tools: no initdb after installing postgresql" >&2; exit 1; }
fi

bin="$root/.tools/bin"
share="$root/.tools/share/alertmanager"
want=(prometheus promtool alertmanager amtool)
have=1
for b in "${want[@]}"; do [ -x "$bin/$b" ] || have=0; done
[ -f "$share/default.tmpl" ] || have=0
[ "$have" = 1 ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download runs as _apt when it can; a world-writable folder keeps it sandboxed.
chmod 0777 "$work"
if ! apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1; then
    echo "install-tools: refreshing the package lists" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update >/dev/null; else sudo -n apt-get update >/dev/null; fi
    apt-get download prometheus prometheus-alertmanager
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" extracted; done
mkdir -p "$bin"
install -m 0755 extracted/usr/bin/prometheus "$bin/prometheus"
install -m 0755 extracted/usr/bin/promtool "$bin/promtool"
install -m 0755 extracted/usr/bin/prometheus-alertmanager "$bin/alertmanager"
install -m 0755 extracted/usr/bin/amtool "$bin/amtool"
# Debian's Alertmanager reads its notification templates from /usr/share (upstream embeds
# them); the tests point a copy of the binary at these (tests/support/alertmanager.py).
mkdir -p "$share"
install -m 0644 extracted/usr/share/prometheus/alertmanager/default.tmpl "$share/default.tmpl"
install -m 0644 extracted/usr/share/prometheus/alertmanager/email.tmpl "$share/email.tmpl"
for b in "${want[@]}"; do "$bin/$b" --version >/dev/null 2>&1 || { echo "install-tools: $b does not run" >&2; exit 1; }; done
echo "install-tools: $(ls "$bin" | tr '\n' ' ')in .tools/bin" >&2
