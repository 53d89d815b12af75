#!/usr/bin/env bash
# Create the role "app" with a generated password and the database "app"
# owned by it. Safe to run again: the role gets a new password, the database
# is kept.
set -euo pipefail

DB_NAME="app"
DB_USER="app"

ensure_installed postgresql
systemctl enable --now postgresql

pw="$(generate_password 32)"

# psql as the postgres superuser over the local socket (peer auth). The SQL
# goes through stdin so the password never appears in a process listing.
cd /
log_info "Creating role ${DB_USER} and database ${DB_NAME}"
runuser -u postgres -- psql -v ON_ERROR_STOP=1 --quiet <<SQL
SELECT 'CREATE ROLE ${DB_USER} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}')\gexec
ALTER ROLE ${DB_USER} WITH LOGIN PASSWORD '${pw}';
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB_NAME}')\gexec
SQL

save_credential postgres POSTGRES_USER "${DB_USER}"
save_credential postgres POSTGRES_PASSWORD "${pw}"
save_credential postgres POSTGRES_DB "${DB_NAME}"
save_credential postgres POSTGRES_PORT 5432
