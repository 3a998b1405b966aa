#!/usr/bin/env bash
# cuda-sdk.sh — make sure a CUDA SDK for compile checks is in the cache and
# print its root. No GPU and no system changes: Debian bookworm's non-free
# CUDA 11.8 packages are fetched with a private APT configuration (own
# sources, lists and cache; the system sources are never touched) and
# unpacked with dpkg-deb into
#   ${DAPO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dapo}/cuda-sdk
# outside the clone. Idempotent: a second run downloads nothing.
#
# The root then holds usr/include (cuda.h, cublas_v2.h, …), the link stubs in
# usr/lib/x86_64-linux-gnu/stubs and, when unpacked, nvcc (see
# scripts/cuda-nvcc.sh) for recompiling kernels/cuda/*.cu to PTX.
set -euo pipefail

cache=${DAPO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dapo}
sdk=$cache/cuda-sdk
apt=$cache/cuda-apt
stamp=$sdk/.complete-v1

if [ -f "$stamp" ]; then
	echo "$sdk"
	exit 0
fi

# Headers, link stubs (nvidia-cuda-dev), and the compiler driver with its
# front end for PTX (nvidia-cuda-toolkit: nvcc, cicc; libnvvm4: libdevice).
# Runtime libraries are not needed: cuBLAS is loaded at run time by name.
pkgs=(nvidia-cuda-dev nvidia-cuda-toolkit libnvvm4)

mkdir -p "$apt"/{sources.list.d,lists/partial,cache/archives/partial,debs} "$sdk"
cat >"$apt/sources.list.d/debian-nonfree.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
: >"$apt/sources.list"
: >"$apt/status"
cat >"$apt/apt.conf" <<CONF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/sources.list.d";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
Dir::Cache::archives "$apt/cache/archives";
APT::Architecture "amd64";
Debug::NoLocking "true";
CONF
export APT_CONFIG=$apt/apt.conf

if [ ! -f "$apt/lists/.updated" ]; then
	echo "cuda-sdk: apt-get update (private config, bookworm non-free)" >&2
	apt-get update -qq -o APT::Get::List-Cleanup=false >&2
	touch "$apt/lists/.updated"
fi

cd "$apt/debs"
for p in "${pkgs[@]}"; do
	if ls "${p}"_*.deb >/dev/null 2>&1; then continue; fi
	echo "cuda-sdk: downloading $p" >&2
	# -o APT::Sandbox::User=root: the cache is owned by the caller, not _apt.
	apt-get download -qq -o APT::Sandbox::User="$(id -un)" "$p" >&2
done

for p in "${pkgs[@]}"; do
	deb=$(ls "$apt/debs/${p}"_*.deb)
	name=$(basename "$deb")
	[ -f "$sdk/.unpacked/$name" ] && continue
	echo "cuda-sdk: unpacking $name" >&2
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$sdk" --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*'
	mkdir -p "$sdk/.unpacked" && touch "$sdk/.unpacked/$name"
done

# The unpacked nvcc reads nvcc.profile beside itself, which the package
# links to /etc/nvcc.profile with absolute /usr paths: point it at the SDK.
tk=$sdk/usr/lib/nvidia-cuda-toolkit
if [ -x "$tk/bin/nvcc" ]; then
	rm -f "$tk/bin/nvcc.profile"
	cat >"$tk/bin/nvcc.profile" <<'PROFILE'
NVVMIR_LIBRARY_DIR = $(_HERE_)/../libdevice
PATH += $(_HERE_):
INCLUDES += "-I$(_HERE_)/../../../include" $(_SPACE_)
LIBRARIES =+ $(_SPACE_) "-L$(_HERE_)/../../x86_64-linux-gnu/stubs"
PROFILE
fi

test -f "$sdk/usr/include/cuda.h" || { echo "cuda-sdk: cuda.h missing after unpacking" >&2; exit 1; }
touch "$stamp"
echo "$sdk"
