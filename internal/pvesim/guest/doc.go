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
// bash/sh (-c, a file, or stdin), and the commands the bot and template
// scripts use: cat, ls, rm, mkdir, rmdir, touch, chmod, chown, chgrp, mv,
// cp, stat -c, head, tail, tr, wc, grep, sed (s, d, p, a, i, c with
// addresses), cut, sort, uniq, base64, tee, seq, date, sleep, mktemp,
// basename, dirname, realpath, hostname (-I), hostnamectl, ip (addr, route,
// link), ss -tlnpH, systemctl (list-units, list-unit-files, show -p/--value,
// status, is-active, is-enabled, start, stop, restart, reload, enable
// [--now], disable, daemon-reload), journalctl -u -n, apt-get/apt (update,
// install -y, remove), dpkg -s/-l, dpkg-query -W -f, pip/pip3 and
// python3 -m pip (after python3-pip is installed), npm (after npm is
// installed), useradd, adduser, usermod, groupadd, userdel, id, getent,
// whoami, su, runuser, chpasswd, env, printenv, uname, timeout, nproc,
// openssl rand, pgrep, systemd-detect-virt. Executable files in the guest
// run as shell scripts (package binaries are such stubs).
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
// --listen H:P); "# lxcbot-sim: fail" makes it fail to start.
package guest
