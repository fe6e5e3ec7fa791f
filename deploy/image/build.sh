#!/usr/bin/env bash
# Builds the gateway's OCI image from Debian packages, without a container engine or a registry beyond loopback:
#   1. a root filesystem with debootstrap (Debian trixie, minbase, the .NET runtime's native dependencies, user app 1654);
#   2. an OCI base image of it with umoci, with the ASP.NET Core shared runtime this machine's SDK runs on;
#   3. a registry on localhost:5000 (Debian's docker-registry), the base pushed to it with skopeo;
#   4. dotnet publish -t:PublishContainer on that base, written as an OCI archive.
# Output: deploy/image/out/mcp-gateway.tar and mcp-gateway-node.tar (with Debian's nodejs and npm on a layer of its own,
# for stdio servers run with npx), OCI archives: podman load, skopeo copy oci-archive:..., kind load image-archive.
# The bases are cached in deploy/image/.cache and built again only when their inputs change.
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

# 1 and 2: the bases, unless this key's are there: the runtime, then Node.js on a layer of its own above it.
if ! umoci ls --layout "$layout" 2>/dev/null | grep -qx "node-$key"; then
  rootfs="$cache/rootfs-$key"
  rm -rf "$rootfs" "$cache"/bundle
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$cache/debootstrap.log"
  chroot "$rootfs" groupadd --gid 1654 app
  chroot "$rootfs" useradd --uid 1654 --gid 1654 --create-home --shell /usr/sbin/nologin app
  clean() {
    rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/usr/share/doc/* "$1"/usr/share/man/* \
      "$1"/usr/share/info/* "$1"/var/log/* "$1"/root/.bash_history "$1"/root/.npm "$1"/etc/resolv.conf
  }
  clean "$rootfs"

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

  # npm does not install with debootstrap itself: apt-get in the root filesystem does it.
  rm -rf "$cache/bundle"
  umoci unpack --image "$layout:base-$key" "$cache/bundle" >/dev/null
  cp /etc/resolv.conf "$cache/bundle/rootfs/etc/resolv.conf"
  unshare --mount /bin/sh -c 'mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
    chroot "$1" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null"' \
    sh "$cache/bundle/rootfs"
  clean "$cache/bundle/rootfs"
  umoci repack --image "$layout:node-$key" "$cache/bundle"
  umoci gc --layout "$layout"
  rm -rf "$rootfs" "$cache/bundle"
fi
echo "base images: $layout:base-$key, node-$key ($((SECONDS - started)) s)"

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
# 4: the gateway on each.
for variant in base node; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$variant-$key" "docker://localhost:$port/mcp-gateway-$variant:$key"
  name=mcp-gateway; [[ $variant == node ]] && name=mcp-gateway-node
  dotnet publish Gateway.Proxy -c Release -v q -nologo -t:PublishContainer \
    -p:ContainerBaseImage="localhost:$port/mcp-gateway-$variant:$key" -p:ContainerRepository="$name" -p:ContainerImageTag="$TAG" \
    -p:ContainerArchiveOutputPath="$PWD/$out/$name.tar" >/dev/null
  echo "image: $out/$name.tar ($(du -h "$out/$name.tar" | cut -f1), $((SECONDS - started)) s)"
done
