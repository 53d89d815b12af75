package pvesim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// derivedError is one derived/ERR_*.json file.
type derivedError struct {
	StatusLine string          `json:"http_status_line"`
	Body       json.RawMessage `json:"body"`
	BodyNew    json.RawMessage `json:"body_since_libpve-http-server-perl_5.2.0"`
}

func loadDerivedError(t *testing.T, name string) derivedError {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(referenceDir(t), "pve-samples", "derived", name))
	require.NoError(t, err)
	var d derivedError
	require.NoError(t, json.Unmarshal(raw, &d))
	return d
}

func TestErrorResponsesMatchDerivedSamples(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 2})
	const tmpl = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	form := url.Values{"vmid": {"101"}, "ostemplate": {tmpl}, "start": {"1"}}.Encode()
	res := b.do(t, "POST", "/nodes/pve1/lxc", "application/x-www-form-urlencoded", form, token)
	require.Equal(t, 200, res.status, res.line)

	cases := []struct {
		sample string
		// adapt rewrites the sample's status line for this cluster's names.
		adapt              func(string) string
		method, path, body string
		headers            map[string]string
	}{
		{sample: "ERR_401_no_ticket.json", method: "GET", path: "/version"},
		{sample: "ERR_401_auth_failed.json", method: "GET", path: "/version", headers: map[string]string{"Authorization": "PVEAPIToken=root@pam!lxcbot=wrong"}},
		{sample: "ERR_401_auth_failed.json", method: "GET", path: "/version", headers: map[string]string{"Cookie": "PVEAuthCookie=PVE:root@pam:64E10CBA::forged"}},
		{sample: "ERR_401_login_failed.json", method: "POST", path: "/access/ticket", body: `{"username":"root@pam","password":"nope"}`},
		{sample: "ERR_400_param_vmid_exists.json", method: "GET", path: "/cluster/nextid?vmid=101", headers: token},
		{sample: "ERR_500_already_running.json", method: "POST", path: "/nodes/pve1/lxc/101/status/start", headers: token},
		{sample: "ERR_500_ct_exists.json", adapt: pveToPve1, method: "POST", path: "/nodes/pve2/lxc", body: `{"vmid":101,"ostemplate":"` + tmpl + `"}`, headers: token},
		{sample: "ERR_500_ct_missing.json", adapt: pveToPve1, method: "GET", path: "/nodes/pve1/lxc/999/status/current", headers: token},
		{sample: "ERR_500_node_unknown.json", method: "GET", path: "/nodes/doesnt-exist/status", headers: token},
		{sample: "ERR_501_no_such_method.json", adapt: pveToPve1, method: "GET", path: "/nodes/pve1/lxc/101/exec", headers: token},
	}
	for _, tc := range cases {
		want := loadDerivedError(t, tc.sample)
		ctype := ""
		if tc.body != "" {
			ctype = "application/json"
		}
		res := b.do(t, tc.method, tc.path, ctype, tc.body, tc.headers)
		line := strings.TrimPrefix(want.StatusLine, "HTTP/1.1 ")
		if tc.adapt != nil {
			line = tc.adapt(line)
		}
		require.Equal(t, line, res.line, tc.sample)
		if string(want.Body) == `""` {
			require.Empty(t, res.body, "%s: empty body", tc.sample)
			continue
		}
		wantBody := want.BodyNew
		if tc.adapt != nil {
			wantBody = []byte(tc.adapt(string(wantBody)))
		}
		require.JSONEq(t, string(wantBody), string(res.body), tc.sample)
	}
}

func pveToPve1(s string) string {
	s = strings.ReplaceAll(s, "'pve'", "'pve1'")
	s = strings.ReplaceAll(s, "nodes/pve/", "nodes/pve1/")
	s = strings.ReplaceAll(s, "/nodes/pve/", "/nodes/pve1/")
	return strings.ReplaceAll(s, "lxc/999.conf", "lxc/999.conf")
}

func TestTicketAuthAndCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	res := b.do(t, "POST", "/access/ticket", "application/x-www-form-urlencoded", "username=root&realm=pam&password=pvesim", nil)
	require.Equal(t, 200, res.status, res.line)
	var login struct {
		Data struct {
			Ticket string `json:"ticket"`
			CSRF   string `json:"CSRFPreventionToken"`
		}
	}
	require.NoError(t, json.Unmarshal(res.body, &login))
	require.Regexp(t, `^PVE:root@pam:[0-9A-F]{8}::\S+$`, login.Data.Ticket)
	require.Regexp(t, `^[0-9A-F]{8}:\S+$`, login.Data.CSRF)
	cookie := map[string]string{"Cookie": "PVEAuthCookie=" + url.QueryEscape(login.Data.Ticket)}

	require.Equal(t, "200 OK", b.do(t, "GET", "/nodes", "", "", cookie).line, "GET needs no CSRF token")

	csrf := loadDerivedError(t, "ERR_401_csrf.json")
	res = b.do(t, "POST", "/nodes/pve1/lxc/100/status/start", "", "", cookie)
	require.Equal(t, strings.TrimPrefix(csrf.StatusLine, "HTTP/1.1 "), res.line)
	require.Empty(t, res.body)

	withCSRF := map[string]string{"Cookie": cookie["Cookie"], "CSRFPreventionToken": login.Data.CSRF}
	res = b.do(t, "POST", "/nodes/pve1/lxc", "application/json", `{"vmid":100,"ostemplate":"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}`, withCSRF)
	require.Equal(t, 200, res.status, res.line)
	require.Contains(t, string(res.body), ":vzcreate:100:root@pam:")

	// Renewing: the ticket itself is accepted as the password.
	res = b.do(t, "POST", "/access/ticket", "application/json", `{"username":"root@pam","password":"`+login.Data.Ticket+`"}`, nil)
	require.Equal(t, 200, res.status, res.line)

	// A token on an allowtoken=0 endpoint.
	res = b.do(t, "POST", "/access/ticket", "application/json", `{"username":"root@pam","password":"pvesim"}`, token)
	require.Equal(t, "403 Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.", res.line)
	require.JSONEq(t, `{"data":null,"message":"Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.\n"}`, string(res.body))

	// The token header also works with a space instead of '='.
	o := b.c.Options()
	res = b.do(t, "GET", "/version", "", "", map[string]string{"Authorization": "PVEAPIToken " + o.TokenID + "=" + o.TokenSecret})
	require.Equal(t, "200 OK", res.line)
}

func TestParameterValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	const tmpl = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	cases := []struct {
		name, method, path, body string
		errors                   map[string]string
	}{
		{"unknown parameter", "POST", "/nodes/pve1/lxc", `{"vmid":100,"ostemplate":"` + tmpl + `","foo":1}`,
			map[string]string{"foo": "property is not defined in schema and the schema does not allow additional properties"}},
		{"string boolean", "POST", "/nodes/pve1/lxc", `{"vmid":100,"ostemplate":"` + tmpl + `","onboot":"true"}`,
			map[string]string{"onboot": "type check ('boolean') failed - got 'true'"}},
		{"vmid below range", "POST", "/nodes/pve1/lxc", `{"vmid":5,"ostemplate":"` + tmpl + `"}`,
			map[string]string{"vmid": "value must have a minimum value of 100"}},
		{"vmid above range", "GET", "/nodes/pve1/lxc/1000000000/status/current", "",
			map[string]string{"vmid": "value must have a maximum value of 999999999"}},
		{"not an integer", "POST", "/nodes/pve1/lxc", `{"vmid":100,"ostemplate":"` + tmpl + `","memory":"abc"}`,
			map[string]string{"memory": "type check ('integer') failed - got 'abc'"}},
		{"enum", "GET", "/cluster/resources?type=foo", "",
			map[string]string{"type": "value 'foo' does not have a value in the enumeration 'vm, storage, node, sdn'"}},
		{"required", "POST", "/nodes/pve1/lxc", `{"vmid":100}`,
			map[string]string{"ostemplate": "property is missing and it is not optional"}},
		{"property string sub-option", "POST", "/nodes/pve1/lxc", `{"vmid":100,"ostemplate":"` + tmpl + `","net0":"name=eth0,foo=bar"}`,
			map[string]string{"net0": "invalid format - format error\nnet0.foo: property is not defined in schema and the schema does not allow additional properties\n"}},
		{"property string boolean", "POST", "/nodes/pve1/lxc", `{"vmid":100,"ostemplate":"` + tmpl + `","features":"nesting=yes"}`,
			map[string]string{"features": "invalid format - format error\nfeatures.nesting: type check ('boolean') failed - got 'yes'\n"}},
		{"shutdown timeout type", "POST", "/nodes/pve1/lxc/100/status/shutdown", `{"timeout":"soon"}`,
			map[string]string{"timeout": "type check ('integer') failed - got 'soon'"}},
	}
	for _, tc := range cases {
		ctype := ""
		if tc.body != "" {
			ctype = "application/json"
		}
		res := b.do(t, tc.method, tc.path, ctype, tc.body, token)
		require.Equal(t, "400 Parameter verification failed.", res.line, tc.name)
		want, err := json.Marshal(map[string]any{"errors": tc.errors, "data": nil, "message": "Parameter verification failed.\n"})
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(res.body), tc.name)
	}

	// Booleans as JSON true/false and numbers as strings are fine.
	res := b.do(t, "POST", "/nodes/pve1/lxc", "application/json", `{"vmid":"100","ostemplate":"`+tmpl+`","onboot":true,"unprivileged":false,"cores":"2"}`, token)
	require.Equal(t, 200, res.status, res.line)

	// Query parameters override body values.
	res = b.do(t, "PUT", "/nodes/pve1/lxc/100/config?cores=3", "application/json", `{"cores":1}`, token)
	require.Equal(t, 200, res.status, res.line)
	res = b.do(t, "GET", "/nodes/pve1/lxc/100/config", "", "", token)
	var cfg struct{ Data map[string]any }
	require.NoError(t, json.Unmarshal(res.body, &cfg))
	require.EqualValues(t, 3, cfg.Data["cores"])
	require.EqualValues(t, 1, cfg.Data["onboot"])
	require.EqualValues(t, 0, cfg.Data["unprivileged"])

	// GET and DELETE take no body.
	res = b.do(t, "GET", "/version", "application/json", `{"x":1}`, token)
	require.Equal(t, "501 Unexpected content for method 'GET'", res.line)

	// Task UPIDs are parsed.
	res = b.do(t, "GET", "/nodes/pve1/tasks/UPID:pve1:bogus/status", "", "", token)
	require.Equal(t, "400 Parameter verification failed.", res.line)
	require.JSONEq(t, `{"errors":{"upid":"unable to parse worker upid"},"data":null,"message":"Parameter verification failed.\n"}`, string(res.body))
	res = b.do(t, "GET", "/nodes/pve1/tasks/"+url.PathEscape("UPID:pve1:00000001:00000001:00000001:vzstart:100:root@pam:")+"/status", "", "", token)
	require.JSONEq(t, `{"errors":{"upid":"no such task"},"data":null,"message":"Parameter verification failed.\n"}`, string(res.body))
}

func TestEmbeddedSchemaEqualsReference(t *testing.T) {
	t.Parallel()
	ref, err := os.ReadFile(filepath.Join(referenceDir(t), "pve-api-subset.json"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(ref, embeddedSchema), "internal/pvesim/schema/pve-api-subset.json differs from the shared reference; copy it again")

	// The reference file also loads through Options.SchemaPath.
	c := New(Options{SchemaPath: filepath.Join(referenceDir(t), "pve-api-subset.json")})
	_, err = NewServer(c)
	require.NoError(t, err)
}
