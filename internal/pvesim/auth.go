package pvesim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const ticketLifetime = 2 * time.Hour

func unauthorized(reason string) *apiError {
	return &apiError{status: 401, reason: reason, emptyBody: true}
}

// authenticate checks the API token or ticket cookie. The login call needs
// neither, but a token on it is still recognised (and then refused).
func (s *Server) authenticate(r *http.Request, isLogin bool) (authInfo, error) {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "PVEAPIToken") {
		rest := strings.TrimPrefix(h, "PVEAPIToken")
		if rest == "" || (rest[0] != '=' && rest[0] != ' ') {
			return authInfo{}, unauthorized("Authentication failed!")
		}
		rest = strings.TrimSpace(rest[1:])
		bang := strings.Index(rest, "!")
		if bang < 0 {
			return authInfo{}, unauthorized("Authentication failed!")
		}
		id, secret, ok := strings.Cut(rest, "=")
		if !ok || id != s.c.opts.TokenID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.c.opts.TokenSecret)) != 1 {
			return authInfo{}, unauthorized("Authentication failed!")
		}
		user, name, _ := strings.Cut(id, "!")
		return authInfo{kind: "token", user: user, tokenName: name}, nil
	}
	if isLogin {
		return authInfo{}, nil
	}
	cookie, err := r.Cookie("PVEAuthCookie")
	if err != nil || cookie.Value == "" {
		return authInfo{}, unauthorized("No ticket")
	}
	ticket := cookie.Value
	if strings.Contains(ticket, "%") { // browsers send it URL-encoded; '+' stays '+'
		if dec, err := url.PathUnescape(ticket); err == nil {
			ticket = dec
		}
	}
	user, ok := s.verifyTicket(ticket)
	if !ok {
		return authInfo{}, unauthorized("Authentication failed!")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.verifyCSRF(r.Header.Get("CSRFPreventionToken"), user) {
		return authInfo{}, unauthorized("Permission denied - invalid csrf token")
	}
	return authInfo{kind: "ticket", user: user}, nil
}

func (s *Server) sign(data string) string {
	m := hmac.New(sha256.New, s.ticketKey)
	m.Write([]byte(data))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// newTicket returns a PVE-style ticket "PVE:<user>:<hex time>::<sig>" and
// its CSRF token "<hex time>:<sig>".
func (s *Server) newTicket(user string, now time.Time) (ticket, csrf string) {
	ts := fmt.Sprintf("%08X", now.Unix())
	plain := "PVE:" + user + ":" + ts
	return plain + "::" + s.sign(plain), ts + ":" + s.sign("csrf:"+ts+":"+user)
}

func (s *Server) verifyTicket(ticket string) (string, bool) {
	plain, sig, ok := strings.Cut(ticket, "::")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(plain))) {
		return "", false
	}
	parts := strings.Split(plain, ":")
	if len(parts) != 3 || parts[0] != "PVE" {
		return "", false
	}
	ts, err := strconv.ParseInt(parts[2], 16, 64)
	if err != nil || time.Since(time.Unix(ts, 0)) > ticketLifetime {
		return "", false
	}
	return parts[1], true
}

func (s *Server) verifyCSRF(token, user string) bool {
	ts, sig, ok := strings.Cut(token, ":")
	if !ok {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign("csrf:"+ts+":"+user)))
}

// login implements POST /access/ticket.
func (s *Server) login(rc *reqCtx) (any, error) {
	user := rc.params["username"]
	if realm := rc.params["realm"]; realm != "" && !strings.Contains(user, "@") {
		user += "@" + realm
	}
	opts := s.c.opts
	pass := rc.params["password"]
	ok := user == opts.Username && subtle.ConstantTimeCompare([]byte(pass), []byte(opts.Password)) == 1
	if !ok && user == opts.Username {
		// Posting a still-valid ticket as the password renews it.
		if u, valid := s.verifyTicket(pass); valid && u == user {
			ok = true
		}
	}
	if !ok {
		return nil, errf(401, "authentication failure")
	}
	ticket, csrf := s.newTicket(user, time.Now())
	all := func(privs ...string) map[string]int {
		m := map[string]int{}
		for _, p := range privs {
			m[p] = 1
		}
		return m
	}
	data := map[string]any{
		"username":            user,
		"ticket":              ticket,
		"CSRFPreventionToken": csrf,
		"cap": map[string]any{
			"vms": all("VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
				"VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console", "VM.Migrate", "VM.Monitor", "VM.PowerMgmt", "VM.Snapshot", "VM.Snapshot.Rollback", "Permissions.Modify"),
			"storage": all("Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit", "Permissions.Modify"),
			"access":  all("Group.Allocate", "User.Modify", "Permissions.Modify"),
			"nodes":   all("Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog", "Permissions.Modify"),
			"sdn":     all("SDN.Allocate", "SDN.Audit", "SDN.Use", "Permissions.Modify"),
			"dc":      all("SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.Audit"),
			"mapping": all("Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify"),
		},
	}
	if len(s.c.nodes) > 1 {
		data["clustername"] = clusterName
	}
	return data, nil
}

const clusterName = "pvesim"
