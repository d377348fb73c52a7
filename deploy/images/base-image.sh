#!/usr/bin/env bash
# Makes the Debian base image the project's images build FROM when no outside registry can be reached:
# debootstrap (minbase, bookworm) from the Debian mirror apt already uses, imported into podman as
#   localhost/spectral-base:bookworm
# The root file system is cached as a tarball under SD_IMAGE_CACHE (default /var/cache/spectral-ci), keyed by this
# script's content and the mirror, so a later run imports it in seconds instead of running debootstrap (~3 min).
# Usage: deploy/images/base-image.sh [IMAGE]     Needs root, debootstrap and podman.
set -euo pipefail
image="${1:-localhost/spectral-base:bookworm}"
cache="${SD_IMAGE_CACHE:-/var/cache/spectral-ci}"
engine="${SD_CONTAINER_ENGINE:-podman}"

# The mirror of the host's own apt sources (deb822 or one-line format); deb.debian.org otherwise.
mirror="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"

# What every image needs: TLS roots, ICU and OpenSSL for self-contained .NET, fontconfig and a font for SkiaSharp,
# libgomp for libtorch's OpenMP, tzdata, and procps so `ps`/`kill` work in a shell inside the container.
packages=ca-certificates,libicu72,libssl3,zlib1g,tzdata,fontconfig,fonts-dejavu-core,libgomp1,procps,curl

key="$( (cat "${BASH_SOURCE[0]}"; echo "$mirror") | sha256sum | cut -c1-16)"
tarball="$cache/debian-bookworm-$key.tar"
keyed="${image%:*}:bookworm-$key"

if "$engine" image exists "$keyed"; then
  "$engine" tag "$keyed" "$image"
  echo "$image (cached image $keyed)"
  exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap bookworm from $mirror (takes a few minutes) ..." >&2
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # apt inside the image uses the same mirror; no package lists or caches are kept.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  # Older keys are stale once this script or the mirror changed.
  find "$cache" -maxdepth 1 -name 'debian-bookworm-*.tar' ! -name "$(basename "$tarball")" -delete
fi
"$engine" import --change 'CMD ["/bin/bash"]' "$tarball" "$keyed" >/dev/null
"$engine" tag "$keyed" "$image"
echo "$image (imported $tarball)"
