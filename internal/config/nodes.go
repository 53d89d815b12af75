package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Proxmox node names are host names; token ids are user@realm!tokenid.
var (
	nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	tokenIDRE  = regexp.MustCompile(`^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$`)
)

// node validates one entry of nodes: and resolves its secrets.
func (f *file) node(i int, in fileNode) (Node, error) {
	field := func(name string) string { return fmt.Sprintf("nodes[%d].%s", i, name) }
	n := Node{
		Name:               in.Name,
		TokenID:            in.TokenID,
		InsecureSkipVerify: in.InsecureSkipVerify,
		Default:            in.Default,
	}
	if !nodeNameRE.MatchString(in.Name) {
		if in.Name == "" {
			return n, errorf(field("name"), "is required")
		}
		return n, errorf(field("name"), fmt.Sprintf("%q is not a valid Proxmox node name (letters, digits, -)", in.Name))
	}

	u, err := url.Parse(in.APIURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return n, errorf(field("api_url"), "must be an https URL such as https://10.0.0.5:8006/api2/json")
	}
	n.APIURL = strings.TrimRight(in.APIURL, "/")

	if !tokenIDRE.MatchString(in.TokenID) {
		return n, errorf(field("token_id"), "must be an API token id like user@pve!tokenname")
	}
	n.TokenSecret, err = f.secretValue(field("token_secret"), in.TokenSecret, in.TokenSecretFile)
	if err != nil {
		return n, err
	}
	if n.TokenSecret.IsZero() {
		return n, errorf(field("token_secret"), "is required (or token_secret_file)")
	}

	if in.TLSFingerprint != "" {
		if in.InsecureSkipVerify {
			return n, errorf(field("insecure_skip_verify"), "cannot be combined with tls_fingerprint; pin the certificate or skip verification, not both")
		}
		fp, ok := normaliseFingerprint(in.TLSFingerprint)
		if !ok {
			return n, errorf(field("tls_fingerprint"), "must be the SHA-256 fingerprint of the certificate, 32 hex bytes like AB:CD:…")
		}
		n.TLSFingerprint = fp
	}

	if in.SSH != nil {
		n.SSH, err = f.ssh(field, *in.SSH)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (f *file) ssh(field func(string) string, in fileSSH) (SSH, error) {
	s := SSH{User: in.User, PrivateKeyFile: relTo(f.path, in.PrivateKeyFile)}
	if in.Addr == "" {
		return s, errorf(field("ssh.addr"), "is required when ssh is given")
	}
	addr, ok := sshAddr(in.Addr)
	if !ok {
		return s, errorf(field("ssh.addr"), fmt.Sprintf("%q is not host or host:port", in.Addr))
	}
	s.Addr = addr
	if s.User == "" {
		s.User = "root"
	}
	var err error
	if s.Password, err = f.secretValue(field("ssh.password"), in.Password, in.PasswordFile); err != nil {
		return s, err
	}
	if s.PrivateKeyFile != "" {
		pem, err := readSecretFile(s.PrivateKeyFile)
		if err != nil {
			return s, errorf(field("ssh.private_key_file"), err.Error())
		}
		s.PrivateKey = secret.String(pem + "\n")
	}
	if s.Password.IsZero() && s.PrivateKey.IsZero() {
		return s, errorf(field("ssh"), "needs password, password_file or private_key_file")
	}
	if in.HostKey != "" {
		if !validHostKeyFingerprint(in.HostKey) {
			return s, errorf(field("ssh.host_key"), "must be a host key fingerprint like SHA256:… (ssh-keygen -lf)")
		}
		s.HostKey = in.HostKey
	}
	return s, nil
}

// secretValue takes a secret given inline or as <key>_file, not both.
func (f *file) secretValue(setting string, inline secret.String, path string) (secret.String, error) {
	switch {
	case path != "" && !inline.IsZero():
		return "", errorf(setting, fmt.Sprintf("both %s and %s_file are set; set only one", lastPart(setting), lastPart(setting)))
	case path != "":
		v, err := readSecretFile(relTo(f.path, path))
		if err != nil {
			return "", errorf(setting+"_file", err.Error())
		}
		return secret.String(v), nil
	}
	return inline, nil
}

func lastPart(s string) string { return s[strings.LastIndexByte(s, '.')+1:] }

// normaliseFingerprint accepts hex with or without colons, any case, and
// returns AB:CD:… in upper case.
func normaliseFingerprint(s string) (string, bool) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != 32 {
		return "", false
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":"), true
}

func validHostKeyFingerprint(s string) bool {
	b64, ok := strings.CutPrefix(s, "SHA256:")
	if !ok {
		return false
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	return err == nil && len(b) == 32
}

// sshAddr accepts host or host:port and returns host:port (port 22 by default).
func sshAddr(s string) (string, bool) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		return s, host != "" && port != ""
	}
	if strings.ContainsAny(s, " /[]") || (strings.Contains(s, ":") && net.ParseIP(s) == nil) {
		return "", false
	}
	return net.JoinHostPort(s, "22"), true
}

func rolePrincipals(setting string, items []string) ([]provision.Principal, error) {
	out := make([]provision.Principal, 0, len(items))
	for i, it := range items {
		p, err := parsePrincipal(strings.TrimSpace(it))
		if err != nil {
			return nil, errorf(fmt.Sprintf("%s[%d]", setting, i), err.Error())
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// notify validates a notification target. Without events it receives all.
func notify(setting string, in *fileNotify, numericChannel bool) (*Notify, error) {
	if in == nil {
		return nil, nil
	}
	if in.Channel == "" {
		return nil, errorf(setting+".channel", "is required")
	}
	if numericChannel && checkSnowflake(in.Channel) != nil {
		return nil, errorf(setting+".channel", fmt.Sprintf("%q is not a Discord channel id (digits only)", in.Channel))
	}
	out := &Notify{Channel: in.Channel, Events: NotifyEvents()}
	if len(in.Events) > 0 {
		out.Events = nil
		for i, e := range in.Events {
			if !slices.Contains(NotifyEvents(), e) {
				return nil, errorf(fmt.Sprintf("%s.events[%d]", setting, i), fmt.Sprintf("%q is not one of %s", e, strings.Join(NotifyEvents(), ", ")))
			}
			if !slices.Contains(out.Events, e) {
				out.Events = append(out.Events, e)
			}
		}
	}
	return out, nil
}
