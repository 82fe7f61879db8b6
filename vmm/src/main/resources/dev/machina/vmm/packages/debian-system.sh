#!/bin/sh
# Installs a Debian system into ROOT from its .deb files, as debootstrap's second stage does, then
# runs the package's SETUP script in it. Run by DebianSystemRecipe as root of a mount and PID
# namespace of its own (RootNamespace), so that the mounts made here vanish with it however it ends,
# and are never there when anything deletes ROOT.
#
#   debian-system.sh ROOT SETUP KERNEL.deb PACKAGE.deb...
#
# The kernel's package is unpacked, not installed: the VMM boots the kernel from outside the disk,
# and only its modules (for udev and modprobe) and /boot/config-* are of use inside. The packages
# are installed in their dependency order by dpkg itself.
set -eu
root=$1 setup=$2 kernel=$3
shift 3

# Debian 12's layout (merged /usr): the top-level program and library directories are links into
# /usr, which packages still shipping files under /bin or /lib unpack through.
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64"
for directory in bin sbin lib lib64; do
    ln -s "usr/$directory" "$root/$directory"
done

# First every package's files, by the host's tools, so that the system can run its own dpkg and
# maintainer scripts; owners are left to that dpkg, which knows the system's users and groups.
for deb in "$kernel" "$@"; do
    dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink --no-same-owner -f - -C "$root"
done

# Then dpkg inside the system installs them properly: records them, gives files their owners,
# special modes and configuration files, and runs the maintainer scripts. dpkg reads the .deb files
# from apt's cache directory, as links to the build cache's copies where it is on the same disk.
archives=$root/var/cache/apt/archives
mkdir -p "$archives" "$root/var/lib/dpkg"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
inside=
base_passwd=
for deb in "$@"; do
    name=${deb##*/}
    ln "$deb" "$archives/$name" 2>/dev/null || cp "$deb" "$archives/$name"
    inside="$inside /var/cache/apt/archives/$name"
    case "$name" in base-passwd_*) base_passwd=/var/cache/apt/archives/$name ;; esac
done
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"

run() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true "$@"
}
# Unsafe I/O: no fsync for each file of a file system that is thrown away if the build fails.
dpkg="dpkg --force-depends --force-unsafe-io"
# base-passwd first: its preinst writes /etc/passwd and /etc/group, where dpkg looks up the owners
# that the other packages name.
if [ -z "$base_passwd" ]; then
    echo "debian-system.sh: no base-passwd among the packages, and the system's users and groups come from it" >&2
    exit 1
fi
run $dpkg --install "$base_passwd"
# shellcheck disable=SC2086 # one argument per package
run $dpkg --unpack $inside
run $dpkg --configure --pending

for modules in "$root"/lib/modules/*/; do
    if [ -d "$modules" ]; then
        run depmod "$(basename "$modules")"
    fi
done
cp "$setup" "$root/tmp/setup"
run sh /tmp/setup
rm -f "$root/tmp/setup" "$archives"/*.deb "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old
