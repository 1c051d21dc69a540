# Sourced by scripts/test: makes sure headless Chromium (Debian's package) and the browser test's
# npm packages (pinned by e2e/package-lock.json) are present.

ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "scripts/test: the browser test needs Debian's chromium package (apt-get install chromium)" >&2
      return 1
    fi
    echo "scripts/test: installing Chromium from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if ! command -v node >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  (cd e2e && npm ci --no-audit --no-fund --silent)
}
