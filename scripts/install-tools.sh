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
# Alertmanager and amtool are Debian trixie's 0.28.1, the first Debian build that takes UTF-8
# label names (`service.name`; bookworm's 0.25 refuses them in alerts and silences). Taken
# from the Debian archive's pool by its exact file name and checked against the SHA256 that
# trixie's Packages index lists; it needs only libc6 >= 2.34 (bookworm has 2.36).
am_version=0.28.1+ds-1
am_deb="prometheus-alertmanager_${am_version}_amd64.deb"
am_url="http://deb.debian.org/debian/pool/main/p/prometheus-alertmanager/$am_deb"
am_sha256=76ee08c2bf686fa32ca243d099b6bfc6cb00074e9337c18ef73154b60c5830a9
# Debian's Alertmanager reads its notification templates from this absolute directory
# (upstream embeds them), which `dpkg-deb -x` does not create. The installed binary has that
# one string constant replaced by a relative path of the same length, so it runs from
# `.tools` (`cd .tools && bin/alertmanager ...`, README "Connect your Alertmanager") without
# writing outside the repository; apart from that constant it is the packaged code.
debian_share=/usr/share/prometheus/alertmanager
relative_share=././././././././share/alertmanager
have=1
for b in "${want[@]}"; do [ -x "$bin/$b" ] || have=0; done
[ -f "$share/default.tmpl" ] || have=0
# An Alertmanager installed before its template directory was made relative: do it again.
[ -x "$bin/alertmanager" ] && ! grep -qa "$relative_share" "$bin/alertmanager" && have=0
# An Alertmanager of another version (0.25 before): replace it.
if [ -x "$bin/alertmanager" ]; then
    installed=$("$bin/alertmanager" --version 2>&1 || true)
    [[ "$installed" == *"revision: $am_version)"* ]] || have=0
fi
[ "$have" = 1 ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download runs as _apt when it can; a world-writable folder keeps it sandboxed.
chmod 0777 "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
    echo "install-tools: refreshing the package lists" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update >/dev/null; else sudo -n apt-get update >/dev/null; fi
    apt-get download prometheus
fi
# apt's own downloader (with its proxy settings); it checks the SHA256 and fails otherwise.
/usr/lib/apt/apt-helper download-file "$am_url" "$am_deb" "SHA256:$am_sha256"
for deb in ./*.deb; do dpkg-deb -x "$deb" extracted; done
mkdir -p "$bin"
install -m 0755 extracted/usr/bin/prometheus "$bin/prometheus"
install -m 0755 extracted/usr/bin/promtool "$bin/promtool"
python3 - extracted/usr/bin/prometheus-alertmanager "$bin/alertmanager" "$debian_share" "$relative_share" <<'PY'
import sys
source, target, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
assert len(old) == len(new)
data = open(source, "rb").read()
# The directory constant stands alone; `.../ui/` and `.../no-ui` are other strings.
at, i = [], data.find(old)
while i >= 0:
    if data[i + len(old):i + len(old) + 1] != b"/":
        at.append(i)
    i = data.find(old, i + 1)
if len(at) == 1:
    data = data[:at[0]] + new + data[at[0] + len(new):]
open(target, "wb").write(data)
PY
chmod 0755 "$bin/alertmanager"
install -m 0755 extracted/usr/bin/amtool "$bin/amtool"
# The templates the relative directory above points at, from the package.
mkdir -p "$share"
install -m 0644 extracted/usr/share/prometheus/alertmanager/default.tmpl "$share/default.tmpl"
install -m 0644 extracted/usr/share/prometheus/alertmanager/email.tmpl "$share/email.tmpl"
for b in "${want[@]}"; do "$bin/$b" --version >/dev/null 2>&1 || { echo "install-tools: $b does not run" >&2; exit 1; }; done
echo "install-tools: $(ls "$bin" | tr '\n' ' ')in .tools/bin" >&2
