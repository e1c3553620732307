#!/usr/bin/env bash
# The benchmark on a machine with an NVIDIA GPU: WebGPU (Dawn over Vulkan) beside wasm, and
# tfjs-node-gpu where CUDA 11.2 / cuDNN 8.1 are installed. Run from the repository root:
#   bash bench/gpu.sh [extra convscope bench flags, e.g. --seconds 20]
# Writes bench/results-gpu.json and docs/PERFORMANCE-gpu.md (the CPU machine's figures stay as they are).
# Needs: Node >= 20.19, the NVIDIA driver with its Vulkan part (nvidia_icd.json; in a container
# NVIDIA_DRIVER_CAPABILITIES must include "graphics"), and the Vulkan loader libvulkan.so.1.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '== %s\n' "$*"; }

say "GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
else
  echo "nvidia-smi not found: no NVIDIA driver visible here (the webgpu row will say why)"
fi

say "Vulkan"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing the Vulkan loader (libvulkan1)"
    { apt-get update -qq && apt-get install -y -qq libvulkan1 >/dev/null; } || true
  else
    echo "libvulkan.so.1 is missing: install the Vulkan loader (Debian/Ubuntu: libvulkan1)"
  fi
fi
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || echo "no Vulkan ICD manifests found (the NVIDIA driver's nvidia_icd.json is needed)"
if command -v vulkaninfo >/dev/null; then vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName|apiVersion' || true; fi

say "dependencies"
# webgpu and @tensorflow/tfjs-backend-webgpu are optionalDependencies; tfjs-node-gpu installs where
# its libtensorflow download is reachable and is dropped silently where it is not.
[ -d node_modules/webgpu ] || npm ci --no-audit --no-fund

say "benchmark (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
node bin/convscope.mjs bench --backends webgpu,gpu,wasm \
  --out bench/results-gpu.json --doc docs/PERFORMANCE-gpu.md "$@"
