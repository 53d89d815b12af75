package commands

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

func provisionIsNotFound(err error) bool { return errors.Is(err, provision.ErrNotFound) }

func (r *Router) nodesCommand() *Command {
	return &Command{
		Name:    "nodes",
		Summary: "Proxmox nodes and whether they answer",
		Role:    provision.RoleViewer,
		run: func(ctx context.Context, c *call) (*Response, error) {
			ns, err := r.b.Nodes(ctx)
			if err != nil {
				return nil, err
			}
			if len(ns) == 0 {
				return &Response{Blocks: []Block{TextBlock("No nodes yet. An admin adds one with `/lxc node add`.")}}, nil
			}
			var lines []string
			for _, n := range ns {
				state := "🟢 online"
				if n.Version != "" {
					state += " (PVE " + n.Version + ")"
				}
				if !n.Online {
					state = "🔴 offline"
					if n.Problem != "" {
						state += ": " + n.Problem
					}
				}
				line := fmt.Sprintf("*%s* — %s · %d containers", n.Node.Name, state, n.Containers)
				if n.Node.IsDefault {
					line += " · default"
				}
				lines = append(lines, line)
			}
			return &Response{Blocks: append([]Block{HeaderBlock(fmt.Sprintf("Nodes (%d)", len(ns)))}, TextBlocks(strings.Join(lines, "\n"))...)}, nil
		},
	}
}

func checkAPIURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an https URL like https://10.0.0.5:8006/api2/json", clip(s, 80))
	}
	return nil
}

func nodeOpts() []Opt {
	return []Opt{
		{Name: "api-url", Type: TypeString, Meta: "URL", Help: "https://host:8006/api2/json", Check: checkAPIURL},
		{Name: "token-id", Type: TypeString, Meta: "ID", Help: "API token id, user@realm!name"},
		{Name: "token-secret", Type: TypeString, Meta: "SECRET", Help: "API token secret", Secret: true},
		{Name: "ssh", Type: TypeString, Meta: "HOST:PORT", Help: "SSH address for pct"},
		{Name: "ssh-user", Type: TypeString, Meta: "USER", Help: "SSH user (default root)"},
		{Name: "ssh-password", Type: TypeString, Meta: "PASSWORD", Help: "SSH password", Secret: true},
		{Name: "insecure", Type: TypeBool, Help: "skip TLS verification instead of pinning the certificate"},
		{Name: "default", Type: TypeBool, Help: "make it the default node"},
	}
}

func nodeFrom(inv *Invocation) provision.Node {
	return provision.Node{
		Name: inv.Arg("name"), APIURL: inv.Opt("api-url"), TokenID: inv.Opt("token-id"),
		TokenSecret: secret.String(inv.Opt("token-secret")), SSHAddr: inv.Opt("ssh"), SSHUser: inv.Opt("ssh-user"),
		SSHPassword: secret.String(inv.Opt("ssh-password")), InsecureSkipVerify: inv.Flag("insecure"), IsDefault: inv.Flag("default"),
	}
}

func nodeArg() Arg { return Arg{Name: "name", Required: true, Help: "node name as Proxmox knows it"} }

func nodeTestBlocks(name string, t *NodeTest) []Block {
	pairs := []Pair{{"API", orNone(t.APIVersion)}, {"TLS certificate", orNone(t.TLSFingerprint)}, {"SSH host key", orNone(t.SSHHostKey)}}
	blocks := []Block{FieldsBlock(pairs...)}
	if len(t.Problems) > 0 {
		blocks = append(blocks, TextBlocks("❌ "+strings.Join(t.Problems, "\n❌ "))...)
	} else {
		blocks = append(blocks, ContextBlock("✅ "+name+": API and SSH answer."))
	}
	return blocks
}

func (r *Router) nodeAddCommand() *Command {
	return &Command{
		Name: "node add", Args: []Arg{nodeArg()}, Opts: nodeOpts(),
		Summary:   "add a node after testing its API and SSH (reply only to you)",
		Example:   "node add pve2 --api-url https://10.0.0.6:8006/api2/json --token-id lxcbot@pve!bot --token-secret … --ssh 10.0.0.6:22",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			n := nodeFrom(c.inv)
			for _, o := range []string{"api-url", "token-id", "token-secret", "ssh"} {
				if c.inv.Opt(o) == "" {
					return nil, usagef(c.inv.Command, "missing --%s", o)
				}
			}
			c.audit.Target = n.Name
			t, err := r.b.AddNode(ctx, c.principal(), n)
			if err != nil {
				return nil, err
			}
			return &Response{Blocks: append([]Block{TextBlock("✅ Node *" + n.Name + "* added.")}, nodeTestBlocks(n.Name, t)...)}, nil
		},
	}
}

func (r *Router) nodeEditCommand() *Command {
	return &Command{
		Name: "node edit", Args: []Arg{nodeArg()}, Opts: nodeOpts(),
		Summary: "change a node's settings (tested before saving)", Role: provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			if len(c.inv.Order) == 0 {
				return nil, usagef(c.inv.Command, "nothing to change: give at least one option")
			}
			n := nodeFrom(c.inv)
			c.audit.Target = n.Name
			t, err := r.b.EditNode(ctx, c.principal(), n.Name, n)
			if err != nil {
				return nil, err
			}
			return &Response{Blocks: append([]Block{TextBlock("✅ Node *" + n.Name + "* updated.")}, nodeTestBlocks(n.Name, t)...)}, nil
		},
	}
}

func (r *Router) nodeTestCommand() *Command {
	return &Command{
		Name: "node test", Args: []Arg{nodeArg()}, Summary: "test a node's API and SSH", Role: provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			c.audit.Target = c.inv.Arg("name")
			t, err := r.b.TestNode(ctx, c.inv.Arg("name"))
			if err != nil {
				return nil, err
			}
			return &Response{Blocks: nodeTestBlocks(c.inv.Arg("name"), t)}, nil
		},
	}
}

func (r *Router) nodeDefaultCommand() *Command {
	return &Command{
		Name: "node default", Args: []Arg{nodeArg()}, Summary: "make a node the default for new containers", Role: provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			c.audit.Target = c.inv.Arg("name")
			if err := r.b.SetDefaultNode(ctx, c.principal(), c.inv.Arg("name")); err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock("✅ *" + c.inv.Arg("name") + "* is now the default node.")}}, nil
		},
	}
}

func (r *Router) nodeRemoveCommand() *Command {
	return &Command{
		Name: "node remove", Args: []Arg{nodeArg()}, Summary: "remove a node (refused while it has containers)", Role: provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			c.audit.Target = c.inv.Arg("name")
			if err := r.b.RemoveNode(ctx, c.principal(), c.inv.Arg("name")); err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock("✅ Node *" + c.inv.Arg("name") + "* removed.")}}, nil
		},
	}
}
