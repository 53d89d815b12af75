#!/usr/bin/env bash
# Listen on every address and accept password logins from hosts on the
# container's own subnet (pg_hba "samenet"), then restart PostgreSQL.
set -euo pipefail

conf_dir=""
for dir in /etc/postgresql/*/main; do
    if [ -f "${dir}/postgresql.conf" ]; then
        conf_dir="${dir}"
    fi
done
if [ -z "${conf_dir}" ]; then
    log_error "no PostgreSQL cluster configuration under /etc/postgresql"
    exit 1
fi

conf="${conf_dir}/postgresql.conf"
hba="${conf_dir}/pg_hba.conf"

if grep -Eq "^#?listen_addresses[[:space:]]*=" "${conf}"; then
    sed -i -E "s/^#?listen_addresses[[:space:]]*=.*/listen_addresses = '*'/" "${conf}"
else
    echo "listen_addresses = '*'" >> "${conf}"
fi
log_info "PostgreSQL listens on all addresses (${conf})"

# Debian's pg_hba.conf mentions "samenet" in its comments: match the rule.
rule="host    all    all    samenet    scram-sha-256"
if ! grep -Eq "^host[[:space:]]+all[[:space:]]+all[[:space:]]+samenet[[:space:]]" "${hba}"; then
    printf '%s\n' "# Added by lxcbot: password logins from the local subnet." "${rule}" >> "${hba}"
    log_info "Allowed password logins from the local subnet (${hba})"
fi

systemctl restart postgresql
systemctl is-active --quiet postgresql
log_info "PostgreSQL is listening on port 5432"
