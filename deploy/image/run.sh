#!/usr/bin/env bash
# Runs the image without a container engine, as root on Linux: unpacks the OCI archive (skopeo, umoci) and starts its
# entrypoint with its environment, as its user (uid 1654), chrooted into its root filesystem (read-only) in new mount
# and PID namespaces (the host's network, so it is reached on loopback). For a try-out and the tests; in production use an
# engine (podman load / docker load / kind load image-archive).
#   deploy/image/run.sh <image.tar> <routes.yaml> <port> [<work dir>]
# The routes file is copied to /config/routes.yaml; the gateway listens on 0.0.0.0:<port>. RUN_COPY=<dir>:<path>
# copies a directory of the host into the image's root filesystem first (e.g. an installed stdio server).
set -euo pipefail
archive=$1; routes=$2; port=$3
work=${4:-$(mktemp -d)}
rm -rf "$work/oci" "$work/bundle"
skopeo copy --quiet "oci-archive:$archive" "oci:$work/oci:gateway"
umoci unpack --image "$work/oci:gateway" "$work/bundle" >/dev/null
rootfs="$work/bundle/rootfs"
install -D -m 0644 "$routes" "$rootfs/config/routes.yaml"
if [[ -n "${RUN_COPY:-}" ]]; then
  mkdir -p "$rootfs/${RUN_COPY#*:}"
  cp -a "${RUN_COPY%%:*}"/. "$rootfs/${RUN_COPY#*:}/"
fi

# The image's own process: its arguments, environment and working directory, from the runtime bundle umoci wrote.
mapfile -t args < <(python3 -c 'import json,sys; [print(a) for a in json.load(open(sys.argv[1]))["process"]["args"]]' "$work/bundle/config.json")
mapfile -t envs < <(python3 -c 'import json,sys; [print(e) for e in json.load(open(sys.argv[1]))["process"]["env"]]' "$work/bundle/config.json")
cwd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["process"]["cwd"])' "$work/bundle/config.json")

command=(chroot --userspec=1654:1654 "$rootfs" /usr/bin/env -i HOME=/home/app "${envs[@]}" GATEWAY_PORT="$port"
  /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "${args[@]}")
# The root filesystem read-only, as it should run in production: writable are /tmp and the user's home (the Data
# Protection keys and tool pins when they are not in Redis), both in memory here; mount volumes there to keep them.
exec unshare --mount --pid --fork --kill-child --mount-proc="$rootfs/proc" /bin/bash -c '
  mount --rbind "$1" "$1" && mount -o remount,bind,ro "$1" &&
  mount --rbind /dev "$1/dev" && mount -t tmpfs tmpfs "$1/tmp" && mount -t tmpfs -o uid=1654,gid=1654,mode=0755 tmpfs "$1/home/app" &&
  shift && exec "$@"' run "$rootfs" "${command[@]}"
