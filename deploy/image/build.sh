#!/usr/bin/env bash
# Builds the gateway's OCI image from Debian packages, without a container engine or a registry beyond loopback:
#   1. a root filesystem with debootstrap (Debian trixie, minbase, the .NET runtime's native dependencies, user app 1654);
#   2. an OCI base image of it with umoci, with the ASP.NET Core shared runtime this machine's SDK runs on;
#   3. a registry on localhost:5000 (Debian's docker-registry), the base pushed to it with skopeo;
#   4. dotnet publish -t:PublishContainer on that base, written as an OCI archive.
# Output: deploy/image/out/mcp-gateway.tar (an OCI archive: podman load, skopeo copy oci-archive:..., kind load
# image-archive). The base is cached in deploy/image/.cache and built again only when its inputs change.
# Needs root (debootstrap) and the Debian packages debootstrap umoci skopeo docker-registry (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

SUITE=${IMAGE_SUITE:-trixie}
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
PACKAGES=ca-certificates,tzdata,zlib1g,libstdc++6,libicu76,libssl3t64
TAG=${IMAGE_TAG:-latest}
out=deploy/image/out
cache=deploy/image/.cache
mkdir -p "$out" "$cache"

need=()
for tool in debootstrap umoci skopeo docker-registry; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
key=$( { echo "$SUITE $MIRROR $PACKAGES $runtime"; cat "$0"; } | sha256sum | cut -c1-16)
layout="$cache/oci"
started=$SECONDS

# 1 and 2: the base, unless this key's is there.
if ! umoci ls --layout "$layout" 2>/dev/null | grep -qx "base-$key"; then
  rootfs="$cache/rootfs-$key"
  rm -rf "$rootfs" "$cache"/bundle
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$cache/debootstrap.log"
  chroot "$rootfs" groupadd --gid 1654 app
  chroot "$rootfs" useradd --uid 1654 --gid 1654 --create-home --shell /usr/sbin/nologin app
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/* "$rootfs"/var/log/* "$rootfs"/root/.bash_history

  # The shared runtimes the gateway is published against, as Microsoft's aspnet image lays them out.
  mkdir -p "$rootfs/usr/share/dotnet/shared"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$rootfs/usr/share/dotnet/"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$rootfs/usr/share/dotnet/shared/"
  ln -s /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"

  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:base-$key"
  umoci unpack --image "$layout:base-$key" "$cache/bundle" >/dev/null
  cp -a "$rootfs"/. "$cache/bundle/rootfs/"
  umoci repack --image "$layout:base-$key" "$cache/bundle"
  umoci config --image "$layout:base-$key" --config.user 1654:1654 --config.workingdir /app \
    --config.env APP_UID=1654 --config.env ASPNETCORE_HTTP_PORTS=8080 --config.env DOTNET_RUNNING_IN_CONTAINER=true \
    --config.env DOTNET_VERSION="$runtime" --config.env ASPNET_VERSION="$runtime" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  umoci gc --layout "$layout"
  rm -rf "$rootfs" "$cache/bundle"
fi
echo "base image: $layout:base-$key ($((SECONDS - started)) s)"

# 3: a registry on loopback for the SDK to pull the base from; named localhost, which the SDK reaches over HTTP.
port=5000
registry="$cache/registry"
mkdir -p "$registry"
cat >"$cache/registry.yml" <<YAML
version: 0.1
storage: { filesystem: { rootdirectory: $registry } }
http: { addr: 127.0.0.1:$port }
log: { level: error }
YAML
docker-registry serve "$cache/registry.yml" >"$cache/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
skopeo copy --quiet --dest-tls-verify=false "oci:$layout:base-$key" "docker://localhost:$port/mcp-gateway-base:$key"

# 4: the gateway on it.
dotnet publish Gateway.Proxy -c Release -v q -nologo -t:PublishContainer \
  -p:ContainerBaseImage="localhost:$port/mcp-gateway-base:$key" -p:ContainerImageTag="$TAG" \
  -p:ContainerArchiveOutputPath="$PWD/$out/mcp-gateway.tar" >/dev/null
echo "image: $out/mcp-gateway.tar ($(du -h "$out/mcp-gateway.tar" | cut -f1), $((SECONDS - started)) s)"
