#!/usr/bin/env bash
# Builds @julusian/midi (RtMidi) with JACK instead of ALSA, for Linux with no
# /dev/snd (containers, CI), into .cache/rtmidi-jack/ (or the folder given as
# $1). MIDISOCK_RTMIDI=<that folder> makes midisock's device module load it.
#
# The version is the one pinned in deno.json's imports. The npm package ships
# its C++ sources: this unpacks them, switches binding.gyp from ALSA
# (__LINUX_ALSA__, -lasound) to JACK (__UNIX_JACK__, -ljack), installs the
# package's runtime dependencies at pinned versions, and compiles it with
# node-gyp against the Node headers in /usr/include/node (--nodedir=/usr:
# nodejs.org is never asked for headers).
#
# Needs: npm, node, python3, make, g++, and libjack-jackd2-dev. Idempotent:
# a build of the same version is kept (give --force to build again).
set -euo pipefail
cd "$(dirname "$0")/.."

force=""
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
out="${1:-.cache/rtmidi-jack}"

version="$(sed -n 's/.*"npm:@julusian\/midi@\([0-9][0-9.]*\)".*/\1/p' deno.json)"
if [ -z "$version" ]; then
  echo "build:jack: cannot find npm:@julusian/midi@VERSION in deno.json" >&2
  exit 1
fi
stamp="{\"package\":\"@julusian/midi\",\"version\":\"${version}\",\"api\":\"jack\",\"defines\":\"__UNIX_JACK__ HAVE_SEMAPHORE\"}"
if [ -z "$force" ] && [ -f "$out/build/Release/midi.node" ] &&
  [ "$(cat "$out/midisock-build.json" 2>/dev/null)" = "$stamp" ]; then
  echo "build:jack: $out has @julusian/midi@${version} with JACK already"
  exit 0
fi

for tool in npm node make g++; do
  if ! command -v "$tool" >/dev/null; then
    echo "build:jack: $tool is missing" >&2
    exit 1
  fi
done
if [ ! -f /usr/include/jack/jack.h ]; then
  echo "build:jack: JACK's headers are missing (apt-get install libjack-jackd2-dev)" >&2
  exit 1
fi
if [ ! -f /usr/include/node/node_api.h ]; then
  echo "build:jack: Node's headers are missing from /usr/include/node" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
work="$(mktemp -d "$(dirname "$out")/.rtmidi-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "build:jack: @julusian/midi@${version} with JACK, into $out"
(cd "$work" && npm pack --silent "@julusian/midi@${version}" >/dev/null)
tar xzf "$work"/julusian-midi-"${version}".tgz -C "$work"
pkg="$work/package"
# HAVE_SEMAPHORE makes RtMidi's closePort() wait (one JACK cycle, at most
# a second) for what was sent to leave its ring buffer, so that the last
# messages before a close (an output's note_offs) are not lost.
sed -i "s/'__LINUX_ALSA__'/'__UNIX_JACK__', 'HAVE_SEMAPHORE'/; s/-lasound/-ljack/" "$pkg/binding.gyp"
grep -q "__UNIX_JACK__" "$pkg/binding.gyp" && grep -q -- "-ljack" "$pkg/binding.gyp" || {
  echo "build:jack: binding.gyp has no __LINUX_ALSA__ / -lasound to switch" >&2
  exit 1
}
# The package's own runtime dependencies, pinned: its JS needs tslib and
# pkg-prebuilds, and the build needs node-addon-api's headers.
(cd "$pkg" && npm install --silent --no-save --ignore-scripts --no-audit --no-fund \
  --no-package-lock node-addon-api@6.1.0 pkg-prebuilds@1.1.0 tslib@2.9.1)

# node-gyp: the one that npm bundles, or else a pinned one from npm.
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$gyp" ]; then
  (cd "$work" && npm install --silent --no-save --no-audit --no-fund \
    --no-package-lock --prefix "$work/gyp" node-gyp@12.4.0)
  gyp="$work/gyp/node_modules/node-gyp/bin/node-gyp.js"
fi
(cd "$pkg" && node "$gyp" rebuild --nodedir=/usr --loglevel=warn)
# No prebuilt binary (ALSA) to fall back on: this folder is JACK or nothing.
rm -rf "$pkg/build/Release/obj.target" "$pkg/build/Release/.deps" "$pkg/prebuilds"
echo "$stamp" >"$pkg/midisock-build.json"

rm -rf "$out"
mv "$pkg" "$out"
echo "build:jack: built $out/build/Release/midi.node"
