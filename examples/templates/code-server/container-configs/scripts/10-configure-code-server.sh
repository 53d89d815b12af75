#!/usr/bin/env bash
# Run code-server as the container user with a generated password, start it
# now and at boot, and save the password as a credential.
set -euo pipefail

user="${CONTAINER_USER:-root}"
home="$(getent passwd "${user}" | cut -d: -f6)"
if [ -z "${home}" ]; then
    log_error "user ${user} does not exist"
    exit 1
fi
group="$(id -gn "${user}")"

if ! command -v code-server >/dev/null; then
    log_error "code-server is not installed; see the packages phase"
    exit 1
fi

# The managed unit leaves the user to this drop-in, so one unit file works
# for any CONTAINER_USER.
mkdir -p /etc/systemd/system/code-server.service.d
cat > /etc/systemd/system/code-server.service.d/user.conf <<EOF_UNIT
[Service]
User=${user}
Group=${group}
Environment=HOME=${home}
WorkingDirectory=${home}
EOF_UNIT

pw="$(generate_password 24)"
config_dir="${home}/.config/code-server"
run_as_user "${user}" mkdir -p "${config_dir}"
cat > "${config_dir}/config.yaml" <<EOF_CONFIG
bind-addr: 0.0.0.0:8080
auth: password
password: ${pw}
cert: false
EOF_CONFIG
chown "${user}:${group}" "${config_dir}/config.yaml"
chmod 600 "${config_dir}/config.yaml"

systemctl daemon-reload
systemctl enable code-server.service
# restart, not start: a second run changes the password.
systemctl restart code-server.service
log_info "code-server is listening on port 8080 as ${user}"

save_credential code-server PASSWORD "${pw}"
