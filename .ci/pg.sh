# Throwaway PostgreSQL cluster on 127.0.0.1 for the test suite.
# Source it, then: pg_up (exports TEST_DATABASE_URL) ... pg_down.
# Installs PostgreSQL from Debian's packages when it is absent.

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    echo "installing PostgreSQL from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

pg_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_up() {
  pg_install
  local bin; bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
  PG_PORT=$(pg_free_port)
  # PostgreSQL refuses to run as root; use the postgres account the package made.
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$PG_DIR" postgres
    chown -R postgres "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  "${PG_AS[@]}" "$bin/initdb" -D "$PG_DIR/data" -U switchboard --auth=trust -E UTF8 >/dev/null
  "${PG_AS[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null
  export TEST_DATABASE_URL="postgresql+psycopg://switchboard@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

pg_down() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
