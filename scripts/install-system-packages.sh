#!/usr/bin/env bash
# Install the Debian packages FusionGAN needs, only those missing. Usage:
#   scripts/install-system-packages.sh libfluidsynth3 [chromium ...]
# As root it runs apt-get; with password-less sudo it uses sudo; otherwise it prints the
# command to run and goes on (the app then reports what is missing when it needs it).
set -u
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A fresh Debian python3.11 has no ensurepip, so `python3 -m venv` needs python3-venv.
if ! "${PYTHON:-python3}" -c "import ensurepip" >/dev/null 2>&1; then
  missing+=("python3-venv")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "*** FusionGAN needs these Debian packages: ${missing[*]}" >&2
  echo "*** Install them as root, then run make again:" >&2
  echo "***     sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
