# tools/vm/prepare.sh — fetch and prepare a Debian kernel for tools/vmtest.
# Sourced by tools/vmtest (bash); defines vm_prepare and vm_kernel_dir.
#
# The guest needs three things from a kernel package: the bzImage, the
# module tree (with modules.dep, which the package lacks: its postinst runs
# depmod) and an initramfs that can reach the host's file system over 9p.
# Everything lives in one directory per kernel series under the cache
# ($TIERD_VM_CACHE, default /var/cache/tierd-vmtest), built under a
# temporary name and renamed into place only when complete, so an
# interrupted preparation is never mistaken for a good one. A lock file
# serialises concurrent preparations of the same series.
#
# Only the handful of modules the initramfs needs are decompressed; the
# rest stay .ko.xz, which the guest's kmod (the host's Debian modprobe)
# loads directly. Decompressing the whole tree costs minutes of CPU.

# Bump when the layout of a prepared directory changes: old ones are ignored.
VM_CACHE_FORMAT=1

# Modules the initramfs loads before it can mount anything: virtio PCI
# transport, 9p over virtio, overlayfs (the root is an overlay of the
# read-only host tree and a tmpfs). Whatever of these, or of their
# dependencies, is built in is skipped.
VM_INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

vm_cache_root() {
	echo "${TIERD_VM_CACHE:-/var/cache/tierd-vmtest}"
}

# vm_kernel_dir SERIES: where a prepared kernel of SERIES lives.
vm_kernel_dir() {
	echo "$(vm_cache_root)/v$VM_CACHE_FORMAT-$1"
}

# vm_package_for SERIES: the newest linux-image-SERIES.*-amd64-unsigned
# package name apt knows, or nothing.
vm_package_for() {
	local series=$1 re
	re="^linux-image-${series//./\\.}\.[0-9]+(-[0-9]+|\+deb[0-9]+)-amd64-unsigned\$"
	apt-cache pkgnames "linux-image-$series." 2>/dev/null | grep -E "$re" |
		sort -V | tail -n 1
}

vm_log() { echo "vmtest: $*" >&2; }

# vm_prepare SERIES: make sure $(vm_kernel_dir SERIES) is complete.
vm_prepare() {
	local series=$1 dir root lockfd
	dir=$(vm_kernel_dir "$series")
	[ -f "$dir/READY" ] && return 0

	root=$(vm_cache_root)
	if ! mkdir -p "$root" 2>/dev/null || [ ! -w "$root" ]; then
		vm_log "cannot write the kernel cache $root: run as root or set TIERD_VM_CACHE to a writable directory"
		return 1
	fi
	exec {lockfd}>"$root/.lock-$series"
	flock "$lockfd"
	if [ -f "$dir/READY" ]; then
		exec {lockfd}>&-
		return 0
	fi
	# Leftovers of interrupted runs: nobody else holds the lock.
	rm -rf "$root/.tmp-v$VM_CACHE_FORMAT-$series".* "$dir"
	local tmp rc
	tmp=$(mktemp -d "$root/.tmp-v$VM_CACHE_FORMAT-$series.XXXXXX") || return 1
	(_vm_build "$series" "$tmp")
	rc=$?
	if [ $rc = 0 ]; then
		chmod 755 "$tmp" && touch "$tmp/READY" && mv -T "$tmp" "$dir" || rc=1
	fi
	[ $rc = 0 ] || rm -rf "$tmp"
	exec {lockfd}>&-
	return $rc
}

# _vm_build SERIES DIR: runs in a subshell; fills DIR.
_vm_build() {
	local series=$1 dir=$2 pkg deb ver t0=$SECONDS
	set -e
	pkg=$(vm_package_for "$series")
	if [ -z "$pkg" ]; then
		vm_log "no linux-image-$series package known to apt; running apt-get update"
		apt-get update -qq >&2 || true
		pkg=$(vm_package_for "$series")
	fi
	if [ -z "$pkg" ]; then
		vm_log "no Debian package linux-image-$series.*-amd64-unsigned (apt-cache search linux-image-$series finds none)"
		return 1
	fi
	vm_log "preparing Linux $series from $pkg in $dir"
	mkdir "$dir/deb" "$dir/pkg"
	if ! (cd "$dir/deb" && apt-get download -q "$pkg" >&2); then
		vm_log "apt-get download $pkg failed (is Debian's archive reachable?)"
		return 1
	fi
	deb=$(echo "$dir"/deb/*.deb)
	dpkg -x "$deb" "$dir/pkg"
	rm -rf "$dir/deb"
	ver=$(ls "$dir/pkg/lib/modules")
	[ -f "$dir/pkg/boot/vmlinuz-$ver" ] || { vm_log "$pkg has no /boot/vmlinuz-$ver"; return 1; }
	mkdir "$dir/modules"
	mv "$dir/pkg/lib/modules/$ver" "$dir/modules/$ver"
	mv "$dir/pkg/boot/vmlinuz-$ver" "$dir/vmlinuz"
	mv "$dir/pkg/boot/config-$ver" "$dir/config" 2>/dev/null || true
	rm -rf "$dir/pkg"
	# depmod -b wants BASE/lib/modules/VER.
	mkdir -p "$dir/depmod/lib"
	ln -s ../../modules "$dir/depmod/lib/modules"
	depmod -b "$dir/depmod" "$ver"
	rm -rf "$dir/depmod"
	echo "$ver" >"$dir/version"
	echo "$pkg" >"$dir/package"
	_vm_build_initrd "$dir" "$ver"
	vm_log "prepared Linux $ver in $((SECONDS - t0))s"
}

# _vm_build_initrd DIR VER: DIR/base.cpio holds busybox and the modules
# the first stage loads (decompressed, in dependency order, listed in
# /modules/order). The init scripts are appended per run by tools/vmtest.
_vm_build_initrd() {
	local dir=$1 ver=$2 stage m line path name
	stage=$dir/initrd
	mkdir -p "$stage/bin" "$stage/modules"
	cp /bin/busybox "$stage/bin/busybox"
	: >"$stage/modules/order"
	mkdir -p "$dir/depmod/lib"
	ln -s ../../modules "$dir/depmod/lib/modules"
	for m in $VM_INITRD_MODULES; do
		# "insmod PATH" lines in load order; "builtin NAME" for built-ins.
		modprobe -d "$dir/depmod" -S "$ver" --show-depends "$m" |
		while read -r line; do
			case "$line" in
			insmod\ *)
				path=${line#insmod }
				path=${path%% *}
				name=$(basename "$path")
				name=${name%.xz}
				grep -qxF "$name" "$stage/modules/order" && continue
				case "$path" in
				*.xz) xz -dc "$path" >"$stage/modules/$name" ;;
				*) cp "$path" "$stage/modules/$name" ;;
				esac
				echo "$name" >>"$stage/modules/order"
				;;
			esac
		done
	done
	rm -rf "$dir/depmod"
	(cd "$stage" && find . | cpio -o -H newc --quiet) >"$dir/base.cpio"
	rm -rf "$stage"
}
