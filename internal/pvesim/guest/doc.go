// Package guest simulates the inside of one LXC container for the Proxmox
// simulator: an in-memory filesystem with modes and owners, users, packages
// per manager (apt, pip, npm), systemd units with listening sockets and a
// journal, network addresses, and a bash interpreter that runs what the bot
// sends through `pct exec`.
//
// # Supported shell subset
//
// Quoting: single quotes, double quotes (with $ expansion and \ escapes),
// backslash, and the '\” idiom. Expansions: $VAR, ${VAR}, ${VAR:-x},
// ${VAR-x}, ${VAR:=x}, ${VAR:+x}, ${VAR:?msg}, ${#VAR}, ${VAR#p}, ${VAR##p},
// ${VAR%p}, ${VAR%%p}, ${VAR/p/r}, ${VAR//p/r}, ${VAR^^}, ${VAR,,},
// ${VAR:off:len}, $1…, $#, $@, "$@", $*, $?, $$, $(...), `...`, $((...)),
// ~ at the start of a word; field splitting on IFS and pathname expansion
// (* ? [...]) against the guest filesystem.
//
// Commands: simple commands with assignments (X=1 cmd), pipelines, !, &&,
// ||, ;, newlines, if/elif/else, for … in, while, until, case, { …; },
// ( … ), name() { …; }, function name { …; }, [[ … ]] (with == globbing
// and =~), (( … )), break, continue, return, exit. Redirections: <, >,
// >>, 2>, 2>&1, >&2, &>, &>>, <<EOF and <<'EOF' (and <<-), <<<.
// Options: set -e (errexit with the usual exemptions for conditions and
// && / || lists), set -u, set -o pipefail; set -x is accepted and ignored.
//
// Builtins implemented in Go: the shell builtins (echo, printf, cd, export,
// local, source/., eval, read, test/[, command -v, type, shift, let, exec …),
// bash/sh (-c, a file, or stdin, with -s ARGS), and the commands the bot and template
// scripts use: cat, ls, rm, mkdir, rmdir, touch, chmod, chown, chgrp, mv,
// cp, stat -c, head, tail, tr, wc, grep, sed (s, d, p, a, i, c with
// addresses), cut, sort, uniq, base64, tee, seq, date, sleep, mktemp,
// basename, dirname, realpath, hostname (-I), hostnamectl, ip (addr, route,
// link), ss -tlnpH, systemctl (list-units, list-unit-files, show -p/--value,
// status, is-active, is-enabled, start, stop, restart, reload, enable
// [--now], disable, daemon-reload), journalctl -u -n, apt-get/apt (update,
// install -y, remove), dpkg -s/-l/-i, dpkg-query -W -f, pip/pip3 and
// python3 -m pip (after python3-pip is installed), npm (after npm is
// installed), useradd, adduser, usermod, groupadd, userdel, id, getent,
// whoami, su, runuser, chpasswd, env, printenv, uname, timeout, nproc,
// openssl rand, pgrep, systemd-detect-virt, install (-d, -m, -o, -g, -D).
// Executable files in the guest run as shell scripts (package binaries are
// such stubs).
//
// curl (after the curl package is installed) does GET requests: to the
// container itself (nginx and apache serve /var/www/html, code-server
// redirects to its login page, a closed port refuses the connection) and to
// a fixed table of installer URLs: https://code-server.dev/install.sh serves
// a script that follows the real installer on Debian, downloading the
// release .deb from GitHub and installing it with dpkg -i (code-server stub
// binary and /usr/lib/systemd/system/code-server@.service). Other URLs fail
// as unsupported.
//
// psql (after postgresql or postgresql-client) connects over the local
// socket with peer authentication, or to localhost with PGPASSWORD, while
// postgresql.service runs. It reads SQL from -c, -f or stdin, with -v
// variables (:name, :'name', :"name"), ON_ERROR_STOP, -q/-t/-A and the
// \gexec, \g, \c, \set, \echo and \q meta-commands, and runs CREATE/ALTER/DROP
// ROLE and USER, CREATE/ALTER/DROP DATABASE, GRANT/REVOKE, CREATE
// EXTENSION, BEGIN/COMMIT/SET and SELECT of literals, version(),
// current_user and columns of pg_roles, pg_user, pg_database and
// pg_extension with WHERE (=, <>, AND, OR, NOT, EXISTS (SELECT …)). The
// roles and databases are kept in the guest (Guest.PostgresRoles,
// Guest.PostgresDatabases). Other statements fail as unsupported.
//
// Units may be templates (name@.service, with %i) and have drop-ins
// (<unit>.d/*.conf).
//
// Anything else fails loudly: unknown commands exit 127 with "bash: X:
// command not found"; valid bash the simulator does not implement
// (background jobs, arrays, brace expansion, $'…', process substitution,
// C-style for, trap, awk, find, xargs, ln, …) exits 2 with
// "lxcbot-sim: unsupported: …" on stderr. Every Exec is bounded in
// commands run, nesting depth and captured output.
//
// Systemd units come from unit files in /etc/systemd/system and
// /lib/systemd/system. A started unit listens on the addresses of a
// "# lxcbot-sim: listen=0.0.0.0:8080,[::]:8080" comment, or else on those
// derived from ExecStart flags (--port N, --host H, --bind-addr H:P,
// --listen H:P); "# lxcbot-sim: fail" makes it fail to start. The
// directives listen=postgresql and listen=code-server derive the addresses
// from postgresql.conf and from code-server's flags or the user's
// ~/.config/code-server/config.yaml (127.0.0.1:8080 by default).
package guest
