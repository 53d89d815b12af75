package provision

// HelperLibraryPath is where the helper library is installed in a container.
const HelperLibraryPath = "/usr/local/lib/lxcbot/helpers.sh"

// ScriptDir is where template scripts are pushed before they run.
const ScriptDir = "/usr/local/lib/lxcbot/scripts"

// CredentialsDir holds the files save_credential writes.
const CredentialsDir = "/etc/infrahaus/credentials"

// HelperLibrary is sourced before every template script. save_credential and
// generate_password announce each secret on stderr (SecretMarker + base64)
// so the runner can mask it; the announcement never reaches users.
const HelperLibrary = `# lxcbot helper library, sourced before every template script.

log_info()  { printf '[INFO] %s\n' "$*"; }
log_warn()  { printf '[WARN] %s\n' "$*" >&2; }
log_error() { printf '[ERROR] %s\n' "$*" >&2; }

is_installed() {
	command -v "$1" >/dev/null 2>&1 && return 0
	dpkg -s "$1" >/dev/null 2>&1
}

wait_for_apt_lock() {
	local tries=0
	while [ -e /var/lib/dpkg/lock-frontend ] && fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ "$tries" -gt 300 ]; then
			log_error "apt is still locked after 300 s"
			return 1
		fi
		sleep 1
	done
	return 0
}

ensure_installed() {
	local p
	for p in "$@"; do
		if ! is_installed "$p"; then
			wait_for_apt_lock
			DEBIAN_FRONTEND=noninteractive apt-get install -y -- "$p"
		fi
	done
}

run_as_user() {
	local user="$1"
	shift
	runuser -u "$user" -- "$@"
}

# __lxcbot_secret VALUE [KEY] announces a secret to the runner.
__lxcbot_secret() {
	printf '##lxcbot-secret %s %s\n' "$(printf '%s' "$1" | base64 -w0)" "${2:-}" >&2
}

generate_password() {
	local len="${1:-24}" raw pw
	# Every stage reads its whole input: an early-closing reader would kill
	# the writer with SIGPIPE, which set -e plus pipefail turns into a failure.
	raw="$(head -c 512 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"
	pw="$(printf '%s' "$raw" | cut -c1-"$len")"
	__lxcbot_secret "$pw"
	printf '%s\n' "$pw"
}

save_credential() {
	local service="$1" key="$2" value="$3"
	local dir=/etc/infrahaus/credentials
	local file="$dir/$service"
	__lxcbot_secret "$value" "$key"
	mkdir -p "$dir"
	chmod 700 "$dir"
	touch "$file"
	chmod 600 "$file"
	grep -v "^${key}=" "$file" >"$file.tmp" || true
	printf '%s=%s\n' "$key" "$value" >>"$file.tmp"
	mv -f "$file.tmp" "$file"
	chmod 600 "$file"
}
`
