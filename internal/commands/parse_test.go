package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

func TestTokenize(t *testing.T) {
	for in, want := range map[string][]string{
		`create nginx web1`:                      {"create", "nginx", "web1"},
		`  a   b  `:                              {"a", "b"},
		`--ssh-key 'ssh-ed25519 AAAA me@h'`:      {"--ssh-key", "ssh-ed25519 AAAA me@h"},
		`--x "say \"hi\" \\ ok"`:                 {"--x", `say "hi" \ ok`},
		`a'b c'd`:                                {"ab cd"},
		`“smart quotes”`:                         {"smart quotes"},
		`''`:                                     {""},
		`it's`:                                   nil, // unterminated
		`--ip=10.0.0.5/24,gw=10.0.0.1 --cores=2`: {"--ip=10.0.0.5/24,gw=10.0.0.1", "--cores=2"},
	} {
		got, err := commands.Tokenize(in)
		if want == nil {
			require.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestParseAccepts(t *testing.T) {
	r, _ := newRouter(t)
	tbl := r.Table()
	inv, err := tbl.Parse(`create nginx web1 --node pve2 --cores=2 --memory 2048 --disk 16 --swap 0 --ip 10.0.0.50/24,gw=10.0.0.1 --vmid 150 --ssh-key 'ssh-ed25519 AAAA me@host'`)
	require.NoError(t, err)
	require.Equal(t, "create", inv.Command.Name)
	require.Equal(t, "nginx", inv.Arg("template"))
	require.Equal(t, "web1", inv.Arg("hostname"))
	require.Equal(t, 2, inv.Int("cores", 0))
	require.Equal(t, 150, inv.Int("vmid", 0))
	require.Equal(t, "ssh-ed25519 AAAA me@host", inv.Opt("ssh-key"))

	for _, line := range []string{
		"", "help", "help node add", "create", "create nginx", "list --node pve1 --state ready --mine --page 2",
		"show 101", "start web1", "stop web1", "shutdown web1", "restart web1", "delete web1",
		"services web1 --refresh", "logs web1 nginx.service --lines 500", "logs web1 nginx --lines=1",
		"creds web1", "creds web1 postgres", "events web1 --type warning", "templates", "templates web",
		"template show nginx", "template edit nginx --cores 2 --tags 'web;proxy'", "template sync", "template export nginx",
		"buckets", "buckets list", "buckets show base", "buckets add tools apt curl jq", "buckets remove tools",
		"nodes", "node add pve3 --api-url https://h:8006/api2/json --token-id a@pve!b --token-secret s --ssh h:22 --default",
		"node edit pve1 --insecure", "node test pve1", "node default pve1", "node remove pve1",
		"roles", "role grant operator <@U123>", "role revoke admin slack:U9", "notify #ops created failed", "notify C123",
		"audit", "audit web1", "LIST", "Create nginx web1", "create nginx web1 --ip dhcp", "create nginx web1 --ip 2001:db8::5/64",
	} {
		_, err := tbl.Parse(line)
		require.NoError(t, err, line)
	}
}

// TestParseRefusesWithUsage: bad input never passes silently and every
// refusal carries a message and, where the command is known, its usage.
func TestParseRefusesWithUsage(t *testing.T) {
	r, _ := newRouter(t)
	for line, want := range map[string]string{
		"frobnicate":                   `unknown command "frobnicate"`,
		"lsit":                         `did you mean "list"`,
		"list --colour red":            "unknown option --colour",
		"list --mine=maybe":            "--mine is a flag",
		"list --page":                  "--page needs a value",
		"list --page 0":                "--page must be between 1 and 100000",
		"list --state sleeping":        `"sleeping" is not a state`,
		"show":                         "missing <ct>",
		"show web1 web2":               `unexpected argument "web2"`,
		"stop":                         "missing <ct>",
		"logs web1":                    "missing <service>",
		"logs web1 'nginx; rm -rf /'":  "is not a systemd unit name",
		"logs web1 nginx --lines 501":  "between 1 and 500",
		"logs web1 nginx --lines many": "takes a whole number",
		"create nginx -web":            "is not a valid hostname",
		"create nginx web_1":           "is not a valid hostname",
		"create nginx " + strings.Repeat("a", 64):           "is not a valid hostname",
		"create nginx web1 --ip 10.0.0.5":                   "prefix length",
		"create nginx web1 --ip 10.0.0.5/33":                "prefix length",
		"create nginx web1 --ip 10.0.0.5/24,gw=x":           "gw=IP",
		"create nginx web1 --ip 10.0.0.5/24,gw=2001:db8::1": "different IP versions",
		"create nginx web1 --vmid 99":                       "--vmid must be between 100 and 999999999",
		"create nginx web1 --vmid 1000000000":               "--vmid must be between 100 and 999999999",
		"create nginx web1 --cores 2 --cores 3":             "given twice",
		"create nginx web1 --ssh-key 'unterminated":         "quote is not closed",
		"template edit nginx --cores 0":                     "between 1 and 512",
		"buckets add x yum curl":                            "not a package manager",
		"role grant king bob":                               "not a role",
		"events web1 --type gossip":                         "not an event type",
		"node add pve3 --api-url http://x":                  "not an https URL",
	} {
		_, err := r.Table().Parse(line)
		require.Error(t, err, line)
		require.Contains(t, err.Error(), want, line)
		var ue *commands.UsageError
		require.ErrorAs(t, err, &ue, line)

		// Through the router, the reply shows the message and the usage.
		resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Admin, Platform: "console", Kind: commands.KindCommand, Text: line})
		require.Equal(t, commands.OutcomeUserError, resp.Outcome, line)
		require.NotEmpty(t, resp.Blocks, line)
		require.Contains(t, resp.Blocks[0].Text, want, line)
		if ue.Command != nil {
			require.Contains(t, resp.Blocks[1].Text, "*Usage:* `/lxc "+ue.Command.Name, line)
		}
	}
}

// Commands whose arguments are checked at run time still answer with usage.
func TestRunTimeUsage(t *testing.T) {
	r, _ := newRouter(t)
	for line, want := range map[string]string{
		"template edit nginx":      "nothing to change",
		"buckets add tools apt":    "missing <packages…>",
		"node add pve3 --ssh h:22": "missing --api-url",
		"help frobnicate":          `there is no command "frobnicate"`,
	} {
		resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Admin, Platform: "console", Kind: commands.KindCommand, Text: line})
		require.Equal(t, commands.OutcomeUserError, resp.Outcome, line)
		require.Contains(t, resp.Blocks[0].Text, want, line)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	r, _ := newRouter(t)
	for _, c := range r.Table().Commands() {
		require.NotEmpty(t, c.Summary, c.Name)
		require.NotEmpty(t, c.Role, c.Name)
		resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Viewer, Platform: "console", Kind: commands.KindCommand, Text: "help " + c.Name})
		require.Equal(t, commands.OutcomeOK, resp.Outcome, c.Name)
		require.Contains(t, resp.Blocks[0].Text, "/lxc "+c.Name, c.Name)
	}
}
