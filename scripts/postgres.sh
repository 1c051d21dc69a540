# Sourced by scripts/test: makes sure a PostgreSQL server answers on 127.0.0.1:5432 and that
# XIETONG_TEST_POSTGRES_URL names a role allowed to create databases (one per test).
# Uses a server that already answers; otherwise starts Debian's cluster, installing it first
# from Debian's packages when absent (needs root, as on CI).

ensure_postgres() {
  if [ -n "${XIETONG_TEST_POSTGRES_URL:-}" ]; then
    return 0
  fi
  local url="postgres://xietong:xietong@127.0.0.1:5432/postgres"
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ "$(id -u)" != 0 ]; then
      echo "scripts/test: no PostgreSQL on 127.0.0.1:5432 and not root to start one;" >&2
      echo "  set XIETONG_TEST_POSTGRES_URL=postgres://USER:PASS@HOST:PORT/postgres (a role with CREATEDB)" >&2
      return 1
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ]; then
      echo "scripts/test: installing PostgreSQL from Debian's packages" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -q "^$version main$"; then
      pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster "$version" main start || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1
    done
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "scripts/test: PostgreSQL did not start" >&2; return 1; }
  fi
  # The test role: created through the local superuser when we can act as it.
  if ! PGPASSWORD=xietong psql -h 127.0.0.1 -U xietong -d postgres -qtAc "SELECT 1" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
      runuser -u postgres -- psql -qtAc "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xietong') THEN
          CREATE ROLE xietong LOGIN CREATEDB PASSWORD 'xietong';
        END IF; END \$\$;" >/dev/null
    else
      echo "scripts/test: PostgreSQL answers but role xietong cannot sign in; set XIETONG_TEST_POSTGRES_URL" >&2
      return 1
    fi
  fi
  # Databases left by earlier runs (each test makes its own) are dropped first.
  PGPASSWORD=xietong psql -h 127.0.0.1 -U xietong -d postgres -qtAc \
    "SELECT 'DROP DATABASE IF EXISTS ' || datname || ';' FROM pg_database WHERE datname LIKE 'xt\_test\_%'" \
    | PGPASSWORD=xietong psql -h 127.0.0.1 -U xietong -d postgres -q >/dev/null 2>&1 || true
  export XIETONG_TEST_POSTGRES_URL="$url"
}
