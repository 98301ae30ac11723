#!/usr/bin/env bash
# What `npm test` needs besides node_modules, made ready on a machine of this kind: PostgreSQL on 127.0.0.1:5432 and
# NATS JetStream on 127.0.0.1:4222 (started when they are down), Debian's Chromium for the browser tests and kubectl
# for the deploy test (installed with apt-get when missing). Quick when everything is there: it only looks.
# TEST_DATABASE_URL / TEST_NATS_URL pointing elsewhere skip the local checks; CHROMIUM_PATH names another browser.
set -euo pipefail

say() { printf 'test setup: %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != "0" ]; then
    say "$1 is missing and installing it needs root: run 'sudo apt-get install -y $2', then npm test again"
    exit 1
  fi
  say "installing $2 (apt-get; once per machine)"
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if [ -z "${TEST_DATABASE_URL:-}" ] && ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install "PostgreSQL" postgresql; fi
  say "starting PostgreSQL on 127.0.0.1:5432"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if [ -z "${TEST_NATS_URL:-}" ] && ! port_open 4222; then
  command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || apt_install "nats-server" nats-server
  say "starting nats-server with JetStream on 127.0.0.1:4222"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server || echo /usr/sbin/nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi
for _ in $(seq 1 50); do
  { [ -n "${TEST_DATABASE_URL:-}" ] || port_open 5432; } && { [ -n "${TEST_NATS_URL:-}" ] || port_open 4222; } && break
  sleep 0.2
done
if [ -z "${TEST_DATABASE_URL:-}" ] && ! port_open 5432; then say "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; fi
if [ -z "${TEST_NATS_URL:-}" ] && ! port_open 4222; then say "NATS is not reachable on 127.0.0.1:4222"; exit 1; fi

# The deploy test renders the kustomize overlays with kubectl.
command -v kubectl >/dev/null || apt_install "kubectl" kubernetes-client
# The browser tests drive Debian's Chromium through playwright-core (no browser download).
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then apt_install "Chromium" chromium; fi
