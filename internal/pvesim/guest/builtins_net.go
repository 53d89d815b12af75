package guest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// The simulated network: curl reaches the container's own listening
// services (nginx serves /var/www/html) and a fixed table of well-known
// installer URLs. Any other URL fails loudly as unsupported rather than
// pretending a download happened.

// codeServerVersion is the release the simulated code-server installer
// treats as the latest.
const codeServerVersion = "4.96.4"

// webResource is one URL the simulated internet serves.
type webResource struct {
	body     string
	redirect bool // served through a redirect (GitHub release assets), so curl needs -L
}

var webTable = map[string]webResource{
	"https://code-server.dev/install.sh": {body: codeServerInstallScript},
	"https://github.com/coder/code-server/releases/download/v" + codeServerVersion + "/code-server_" + codeServerVersion + "_amd64.deb": {
		body: debArchive("code-server", codeServerVersion, "amd64"), redirect: true},
	"https://github.com/coder/code-server/releases/download/v" + codeServerVersion + "/code-server_" + codeServerVersion + "_arm64.deb": {
		body: debArchive("code-server", codeServerVersion, "arm64"), redirect: true},
}

// releaseStorage is where GitHub redirects release downloads.
const releaseStorage = "https://objects.githubusercontent.com/github-production-release-asset"

// debMagic starts every .deb (an ar archive); the simulator's packages carry
// their name, version and architecture on the next line.
const (
	debMagic  = "!<arch>\n"
	debHeader = "# lxcbot-sim deb: "
)

func debArchive(name, version, arch string) string {
	return debMagic + debHeader + name + " " + version + " " + arch + "\n"
}

// debCatalog holds the packages of the .deb files the simulated internet
// serves; dpkg -i installs them.
var debCatalog = map[string]pkgSpec{
	"code-server": {
		execs: map[string]string{
			"/usr/lib/code-server/bin/code-server": codeServerBinary,
			"/usr/bin/code-server":                 codeServerBinary, // a symlink in the real package
		},
		files: map[string]string{"/usr/lib/systemd/system/code-server@.service": codeServerTemplateUnit},
	},
}

const codeServerBinary = `#!/bin/sh
# code-server ` + codeServerVersion + ` as the lxcbot simulator installs it. The server runs
# only as a systemd unit; the command line answers version and extension queries.
case "${1-}" in
--version | -v)
  echo "` + codeServerVersion + ` with Code 1.96.4"
  exit 0
  ;;
--help | -h)
  echo "code-server ` + codeServerVersion + ` with Code 1.96.4"
  echo ""
  echo "Usage: code-server [options] [path]"
  exit 0
  ;;
--list-extensions)
  exit 0
  ;;
--install-extension)
  if [ -z "${2-}" ]; then
    echo "error: --install-extension requires an argument" >&2
    exit 1
  fi
  echo "Installing extensions..."
  echo "Extension '$2' was successfully installed."
  exit 0
  ;;
esac
echo "lxcbot-sim: unsupported: running code-server in the foreground; start its systemd unit" >&2
exit 2
`

const codeServerTemplateUnit = `[Unit]
Description=code-server
After=network.target

[Service]
Type=exec
# lxcbot-sim: listen=code-server
ExecStart=/usr/bin/code-server
Restart=always
User=%i

[Install]
WantedBy=default.target
`

// codeServerInstallScript follows https://code-server.dev/install.sh for
// Linux: on Debian and Ubuntu it downloads the release .deb into the cache
// directory and installs it with dpkg. The latest version is fixed, and the
// standalone method and other distributions are not simulated.
const codeServerInstallScript = `#!/bin/sh
set -eu

# code-server's install script.
# Run with --help for usage.

usage() {
  arg0="$0"
  if [ "$0" = sh ]; then
    arg0="curl -fsSL https://code-server.dev/install.sh | sh -s --"
  fi
  cath <<EOF
Installs code-server.
It tries to use the system package manager if possible.
After successful installation it explains how to start using code-server.

Usage:

  $arg0 [--dry-run] [--version X.X.X] [--method detect]

--dry-run
  Echo the commands for the install process without running them.

--version X.X.X
  Install a specific version instead of the latest.

--method [detect | standalone]
  Choose the installation method. Defaults to detect.
  - detect detects the system package manager and tries to use it.
  - standalone installs a standalone release archive into ~/.local
EOF
}

echo_latest_version() {
  echo "` + codeServerVersion + `"
}

echo_systemd_postinstall() {
  echoh
  cath <<EOF
$1 package has been installed.

To have systemd start code-server now and restart on boot:
  sudo systemctl enable --now code-server@\$USER
Or, if you don't want/need a background service you can run:
  code-server
EOF
}

main() {
  DRY_RUN=
  METHOD=detect
  VERSION=
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --dry-run)
        DRY_RUN=1
        ;;
      --method)
        METHOD="$(parse_arg "$@")"
        shift
        ;;
      --method=*)
        METHOD="$(parse_arg "$@")"
        ;;
      --version)
        VERSION="$(parse_arg "$@")"
        shift
        ;;
      --version=*)
        VERSION="$(parse_arg "$@")"
        ;;
      -h | --h | -help | --help)
        usage
        exit 0
        ;;
      *)
        echoerr "Unknown flag $1"
        echoerr "Run with --help to see usage."
        exit 1
        ;;
    esac
    shift
  done

  OS="$(os)"
  ARCH="$(arch)"
  if [ ! "$ARCH" ]; then
    echoerr "Unsupported architecture $(uname -m)."
    exit 1
  fi
  DISTRO="$(distro)"
  CACHE_DIR="$(echo_cache_dir)"
  if [ ! "$VERSION" ]; then
    VERSION="$(echo_latest_version)"
  fi

  case "$METHOD" in
    detect) ;;
    standalone)
      echoerr "lxcbot-sim: unsupported: the standalone install method"
      exit 2
      ;;
    *)
      echoerr "Unknown install method \"$METHOD\""
      echoerr "Run with --help to see usage."
      exit 1
      ;;
  esac

  case "$DISTRO" in
    debian | ubuntu)
      install_deb
      ;;
    *)
      echoerr "lxcbot-sim: unsupported: installing code-server on $DISTRO"
      exit 2
      ;;
  esac
}

parse_arg() {
  case "$1" in
    *=*)
      opt="${1%%=*}"
      optarg="${1#*=}"
      if [ ! "$optarg" ]; then
        echoerr "$opt requires an argument"
        echoerr "Run with --help to see usage."
        exit 1
      fi
      echo "$optarg"
      return
      ;;
  esac

  case "${2-}" in
    "" | -*)
      echoerr "$1 requires an argument"
      echoerr "Run with --help to see usage."
      exit 1
      ;;
    *)
      echo "$2"
      return
      ;;
  esac
}

install_deb() {
  echoh "Installing v$VERSION of the $ARCH deb package from GitHub."
  echoh

  fetch "https://github.com/coder/code-server/releases/download/v$VERSION/code-server_${VERSION}_$ARCH.deb" \
    "$CACHE_DIR/code-server_${VERSION}_$ARCH.deb"
  sudo_sh_c dpkg -i "$CACHE_DIR/code-server_${VERSION}_$ARCH.deb"

  echo_systemd_postinstall deb
}

fetch() {
  URL="$1"
  FILE="$2"

  if [ -e "$FILE" ]; then
    echoh "+ Reusing $FILE"
    return
  fi

  sh_c mkdir -p "$CACHE_DIR"
  sh_c curl \
    -#fL \
    -o "$FILE.incomplete" \
    -C - \
    "$URL"
  sh_c mv "$FILE.incomplete" "$FILE"
}

os() {
  uname="$(uname)"
  case $uname in
    Linux) echo linux ;;
    Darwin) echo macos ;;
    FreeBSD) echo freebsd ;;
    *) echo "$uname" ;;
  esac
}

distro() {
  if [ -f /etc/os-release ]; then
    (
      . /etc/os-release
      if [ "${ID_LIKE-}" ]; then
        for id_like in $ID_LIKE; do
          case "$id_like" in debian | fedora | opensuse | arch)
            echo "$id_like"
            exit 0
            ;;
          esac
        done
      fi

      echo "$ID"
    )
    return
  fi
}

arch() {
  uname_m=$(uname -m)
  case $uname_m in
    aarch64) echo arm64 ;;
    x86_64) echo amd64 ;;
    *) echo "$uname_m" ;;
  esac
}

command_exists() {
  if [ ! "$1" ]; then return 1; fi
  command -v "$@" > /dev/null
}

sh_c() {
  echoh "+ $*"
  if [ ! "${DRY_RUN-}" ]; then
    sh -c "$*"
  fi
}

sudo_sh_c() {
  if [ "$(id -u)" = 0 ]; then
    sh_c "$@"
  elif command_exists sudo; then
    sh_c "sudo $*"
  elif command_exists su; then
    sh_c "su root -c '$*'"
  else
    echoh
    echoerr "This script needs to run the following command as root."
    echoerr "  $*"
    echoerr "Please install sudo or su."
    exit 1
  fi
}

echo_cache_dir() {
  if [ "${XDG_CACHE_HOME-}" ]; then
    echo "$XDG_CACHE_HOME/code-server"
  elif [ "${HOME-}" ]; then
    echo "$HOME/.cache/code-server"
  else
    echo "/tmp/code-server-cache"
  fi
}

echoh() {
  echo "$@" | humanpath
}

cath() {
  humanpath
}

echoerr() {
  echoh "$@" >&2
}

# humanpath replaces all occurrences of " $HOME" with " ~".
humanpath() {
  sed "s# $HOME# ~#g; s#\"$HOME#\"\$HOME#g"
}

main "$@"
`

// httpResponse is what a simulated server answered.
type httpResponse struct {
	status   int
	body     string
	location string
}

// curlFailure is a transfer error: curl's exit code and message.
type curlFailure struct {
	code int
	msg  string
}

// fetchURL resolves one GET request against the container's own services
// and the well-known URL table.
func (g *Guest) fetchURL(raw string) (httpResponse, *curlFailure, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return httpResponse{}, &curlFailure{3, "URL using bad/illegal format or missing URL"}, nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return httpResponse{}, &curlFailure{1, fmt.Sprintf("Protocol %q not supported", u.Scheme)}, nil
	}
	host := u.Hostname()
	if g.isLocalHost(host) {
		return g.serveLocal(u)
	}
	canon := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		canon += "?" + u.RawQuery
	}
	if asset, ok := strings.CutPrefix(canon, releaseStorage); ok {
		// Release asset storage answers with the asset GitHub redirected to.
		if res, ok := webTable["https://github.com"+asset]; ok && res.redirect {
			return httpResponse{status: 200, body: res.body}, nil, nil
		}
		return httpResponse{status: 404}, nil, nil
	}
	res, ok := webTable[canon]
	if !ok {
		return httpResponse{}, nil, &UnsupportedError{What: "curl " + raw + " (the simulator serves the container's own services and a fixed set of installer URLs)"}
	}
	if res.redirect {
		return httpResponse{status: 302, location: releaseStorage + u.EscapedPath()}, nil, nil
	}
	return httpResponse{status: 200, body: res.body}, nil, nil
}

func (g *Guest) isLocalHost(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1", "0.0.0.0":
		return true
	}
	if ip, ok := g.IP(); ok && ip.String() == host {
		return true
	}
	return strings.EqualFold(host, g.Hostname())
}

// serveLocal answers a request to the container itself: nginx and apache
// serve /var/www/html; a closed port refuses the connection.
func (g *Guest) serveLocal(u *url.URL) (httpResponse, *curlFailure, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var proc string
	for _, l := range g.listeners() {
		if _, p, ok := splitHostPort(l.local); ok && p == port {
			proc = l.proc
			break
		}
	}
	switch proc {
	case "":
		return httpResponse{}, &curlFailure{7, fmt.Sprintf("Failed to connect to %s port %s after 0 ms: Couldn't connect to server", u.Hostname(), port)}, nil
	case "nginx", "apache2", "apachectl":
		if u.Scheme == "https" {
			return httpResponse{}, &curlFailure{35, "OpenSSL/3.0.15: error:0A00010B:SSL routines::wrong version number"}, nil
		}
		p := path.Clean("/" + u.Path)
		cands := []string{"/var/www/html" + p}
		if strings.HasSuffix(u.Path, "/") || p == "/" {
			cands = []string{"/var/www/html" + p + "/index.html", "/var/www/html" + p + "/index.htm", "/var/www/html" + p + "/index.nginx-debian.html"}
		}
		for _, c := range cands {
			if data, err := g.ReadFile(path.Clean(c)); err == nil {
				return httpResponse{status: 200, body: string(data)}, nil, nil
			}
		}
		return httpResponse{status: 404, body: "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"}, nil, nil
	case "code-server":
		if u.Path == "/healthz" {
			return httpResponse{status: 200, body: `{"status":"alive","lastHeartbeat":0}`}, nil, nil
		}
		return httpResponse{status: 302, location: "./login", body: "Found. Redirecting to ./login"}, nil, nil
	}
	return httpResponse{}, nil, &UnsupportedError{What: "curl to " + proc + " on port " + port + " (the simulator does not speak its protocol)"}
}

// cCurl is curl for GET requests: -f -s -S -L -o -O -I -w -C - -#, plus
// options that do not change the simulation (retries, timeouts, headers).
func cCurl(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var fail, silent, showErr, follow, remoteName, head, progress, createDirs bool
	var output, writeOut string
	var urls []string
	takesArg := map[string]bool{"o": true, "C": true, "H": true, "w": true, "m": true, "A": true, "e": true, "r": false}
	longArg := map[string]string{"--output": "o", "--continue-at": "C", "--header": "H", "--write-out": "w", "--max-time": "m",
		"--user-agent": "A", "--referer": "e", "--retry": "", "--retry-delay": "", "--retry-max-time": "", "--connect-timeout": "",
		"--proto": "", "--proto-redir": "", "--max-redirs": "", "--cacert": ""}
	longFlag := map[string]string{"--fail": "f", "--silent": "s", "--show-error": "S", "--location": "L", "--remote-name": "O",
		"--head": "I", "--progress-bar": "#", "--insecure": "k", "--verbose": "v", "--compressed": "", "--create-dirs": "dirs",
		"--tlsv1.2": "", "--tlsv1.3": "", "--http1.1": "", "--fail-with-body": "f", "--no-progress-meter": "s", "--ipv4": "", "-4": ""}
	set := func(f, v string) error {
		switch f {
		case "f":
			fail = true
		case "s":
			silent = true
		case "S":
			showErr = true
		case "L":
			follow = true
		case "O":
			remoteName = true
		case "I":
			head = true
		case "#":
			progress = true
		case "dirs":
			createDirs = true
		case "o":
			output = v
		case "w":
			writeOut = v
		case "C":
			if v != "-" && v != "0" {
				return &UnsupportedError{What: "curl -C " + v}
			}
		case "k", "v", "", "H", "m", "A", "e":
		default:
			return &UnsupportedError{What: "curl -" + f}
		}
		return nil
	}
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			urls = append(urls, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a, "=")
			if f, ok := longArg[name]; ok {
				if !hasVal {
					if i+1 >= len(args) {
						fmt.Fprintf(ios.err, "curl: option %s: requires parameter\n", name)
						return 2, nil
					}
					i++
					val = args[i]
				}
				if err := set(f, val); err != nil {
					return 0, err
				}
				continue
			}
			if f, ok := longFlag[a]; ok {
				if err := set(f, ""); err != nil {
					return 0, err
				}
				continue
			}
			return 0, &UnsupportedError{What: "curl " + name}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				f := string(a[j])
				if takesArg[f] {
					v := a[j+1:]
					if v == "" {
						if i+1 >= len(args) {
							fmt.Fprintf(ios.err, "curl: option -%s: requires parameter\n", f)
							return 2, nil
						}
						i++
						v = args[i]
					}
					if err := set(f, v); err != nil {
						return 0, err
					}
					break
				}
				if strings.Contains("fsSLOI#kv4", f) {
					_ = set(f, "")
					continue
				}
				return 0, &UnsupportedError{What: "curl -" + f}
			}
		default:
			urls = append(urls, a)
		}
	}
	if len(urls) != 1 {
		if len(urls) == 0 {
			fmt.Fprintln(ios.err, "curl: no URL specified!")
			return 2, nil
		}
		return 0, &UnsupportedError{What: "curl with several URLs"}
	}
	failWith := func(f curlFailure) (int, error) {
		if !silent || showErr {
			fmt.Fprintf(ios.err, "curl: (%d) %s\n", f.code, f.msg)
		}
		return f.code, nil
	}
	raw := urls[0]
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	if err := s.g.sleep(ctx, 200*time.Millisecond); err != nil {
		return 130, err
	}
	var res httpResponse
	for hops := 0; ; hops++ {
		r, f, err := s.g.fetchURL(raw)
		if err != nil {
			return 0, err
		}
		if f != nil {
			return failWith(*f)
		}
		res = r
		if !follow || r.location == "" || hops >= 50 {
			break
		}
		next, err := url.Parse(raw)
		if err != nil {
			break
		}
		loc, err := next.Parse(r.location)
		if err != nil {
			break
		}
		raw = loc.String()
	}
	if fail && res.status >= 400 {
		return failWith(curlFailure{22, fmt.Sprintf("The requested URL returned error: %d", res.status)})
	}
	body := res.body
	if head {
		body = fmt.Sprintf("HTTP/1.1 %d %s\r\n", res.status, httpReason(res.status))
		if res.location != "" {
			body += "location: " + res.location + "\r\n"
		}
		body += "\r\n"
	}
	if remoteName && output == "" {
		output = path.Base(urls[0])
	}
	w := ios.out
	if output != "" && output != "-" {
		p := cleanPath(s.cwd, output)
		if createDirs {
			owner, group := s.userGroup()
			s.g.mu.Lock()
			_ = s.g.fs.mkdir(path.Dir(p), 0o755, owner, group, true)
			s.g.mu.Unlock()
		}
		fw, _, err := s.g.openWriter(p, false, s.user)
		if err != nil {
			return failWith(curlFailure{23, fmt.Sprintf("Failure writing output to destination (%s: %s)", output, errText(err))})
		}
		w = fw
		if progress && !silent {
			fmt.Fprintln(ios.err, strings.Repeat("#", 72)+" 100.0%")
		}
	}
	if _, err := io.WriteString(w, body); err != nil {
		return 23, nil
	}
	if writeOut != "" {
		io.WriteString(ios.out, strings.NewReplacer("%{http_code}", strconv.Itoa(res.status), "%{url_effective}", raw,
			"%{redirect_url}", res.location, `\n`, "\n").Replace(writeOut))
	}
	return 0, nil
}

// dpkgInstall is dpkg -i: it installs .deb files the simulated internet
// served (their packages are in debCatalog).
func (s *shell) dpkgInstall(files []string, ios ioSet) (int, error) {
	if s.user != "root" {
		fmt.Fprintln(ios.err, "dpkg: error: requested operation requires superuser privilege")
		return 2, nil
	}
	if len(files) == 0 {
		fmt.Fprintln(ios.err, "dpkg: error: --install needs at least one package archive file argument")
		return 2, nil
	}
	status := 0
	for _, f := range files {
		data, err := s.g.ReadFile(cleanPath(s.cwd, f))
		if err != nil {
			fmt.Fprintf(ios.err, "dpkg: error: cannot access archive '%s': %s\n", f, errText(err))
			status = 2
			continue
		}
		text := string(data)
		header, _, _ := strings.Cut(strings.TrimPrefix(text, debMagic+debHeader), "\n")
		fields := strings.Fields(header)
		if !strings.HasPrefix(text, debMagic) {
			fmt.Fprintf(ios.err, "dpkg-deb: error: '%s' is not a Debian format archive\n", f)
			fmt.Fprintf(ios.err, "dpkg: error processing archive %s (--install):\n dpkg-deb --control subprocess returned error exit status 2\n", f)
			status = 1
			continue
		}
		if !strings.HasPrefix(text, debMagic+debHeader) || len(fields) != 3 {
			return 0, &UnsupportedError{What: "dpkg -i of " + f + " (a .deb the simulator did not serve)"}
		}
		name, version := fields[0], fields[1]
		spec, ok := debCatalog[name]
		if !ok {
			return 0, &UnsupportedError{What: "dpkg -i of package " + name}
		}
		spec.version = version
		s.g.mu.Lock()
		prev, had := s.g.packages["apt"][name]
		if !had {
			fmt.Fprintf(ios.out, "Selecting previously unselected package %s.\n", name)
		}
		fmt.Fprintf(ios.out, "(Reading database ... %d files and directories currently installed.)\n", len(s.g.fs.nodes))
		fmt.Fprintf(ios.out, "Preparing to unpack .../%s ...\n", path.Base(f))
		if had {
			fmt.Fprintf(ios.out, "Unpacking %s (%s) over (%s) ...\n", name, version, prev)
		} else {
			fmt.Fprintf(ios.out, "Unpacking %s (%s) ...\n", name, version)
		}
		s.g.installSpecLocked(name, spec, false)
		s.g.mu.Unlock()
		fmt.Fprintf(ios.out, "Setting up %s (%s) ...\n", name, version)
	}
	return status, nil
}

func httpReason(code int) string {
	switch code {
	case 200:
		return "OK"
	case 302:
		return "Found"
	case 404:
		return "Not Found"
	}
	return ""
}

// cInstall is install(1): install -d [-m MODE] [-o USER] [-g GROUP] DIR...
// creates directories; install [-D] [-m MODE] [-o USER] [-g GROUP] SRC...
// DEST copies files and sets their mode (0755 by default) and owner.
func cInstall(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "mogt")
	for f := range flags {
		if !strings.Contains("dDmogv", f) || len(f) != 1 {
			return 0, &UnsupportedError{What: "install -" + strings.TrimPrefix(f, "-")}
		}
	}
	mode := fs.FileMode(0o755)
	if m, ok := flags["m"]; ok {
		v, err := strconv.ParseUint(m, 8, 32)
		if err != nil {
			return 0, &UnsupportedError{What: "install -m with a symbolic mode"}
		}
		mode = fs.FileMode(v)
	}
	if len(ops) == 0 {
		fmt.Fprintln(ios.err, "install: missing file operand")
		return 1, nil
	}
	owner, group := s.userGroup()
	if o, ok := flags["o"]; ok {
		owner = o
	}
	if gr, ok := flags["g"]; ok {
		group = gr
	}
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	ou, ogrp, err := g.resolveOwnerLocked(owner + ":" + group)
	if err != nil {
		fmt.Fprintf(ios.err, "install: %s\n", err)
		return 1, nil
	}
	setAttrs := func(p string) {
		if n, ok := g.fs.nodes[p]; ok {
			n.mode, n.owner, n.group = mode.Perm(), ou, ogrp
		}
	}
	if has(flags, "d") {
		status := 0
		for _, o := range ops {
			p := cleanPath(s.cwd, o)
			if err := g.fs.mkdir(p, 0o755, "root", "root", true); err != nil {
				fmt.Fprintf(ios.err, "install: cannot create directory '%s': %s\n", o, errText(err))
				status = 1
				continue
			}
			setAttrs(p)
		}
		return status, nil
	}
	if len(ops) < 2 {
		fmt.Fprintf(ios.err, "install: missing destination file operand after '%s'\n", ops[0])
		return 1, nil
	}
	dest := cleanPath(s.cwd, ops[len(ops)-1])
	srcs := ops[:len(ops)-1]
	if has(flags, "D") {
		dir := dest
		if len(srcs) == 1 {
			dir = path.Dir(dest)
		}
		_ = g.fs.mkdir(dir, 0o755, "root", "root", true)
	}
	destDir := false
	if n, ok := g.fs.nodes[dest]; ok && n.dir {
		destDir = true
	}
	if len(srcs) > 1 && !destDir {
		fmt.Fprintf(ios.err, "install: target '%s' is not a directory\n", ops[len(ops)-1])
		return 1, nil
	}
	status := 0
	for _, src := range srcs {
		data, err := g.fs.readFile(cleanPath(s.cwd, src))
		if err != nil {
			fmt.Fprintf(ios.err, "install: cannot stat '%s': %s\n", src, errText(err))
			status = 1
			continue
		}
		to := dest
		if destDir {
			to = path.Join(dest, path.Base(src))
		}
		if err := g.fs.writeFile(to, data, false, mode.Perm(), ou, ogrp); err != nil {
			fmt.Fprintf(ios.err, "install: cannot create regular file '%s': %s\n", to, errText(err))
			status = 1
			continue
		}
		setAttrs(to)
	}
	return status, nil
}
