package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func (r *Router) bucketsCommand(name string) *Command {
	return &Command{
		Name:    name,
		alias:   name != "buckets",
		Summary: "the package bucket library",
		Role:    provision.RoleViewer,
		run: func(ctx context.Context, c *call) (*Response, error) {
			bs, err := r.b.Buckets(ctx)
			if err != nil {
				return nil, err
			}
			if len(bs) == 0 {
				return &Response{Blocks: []Block{TextBlock("No buckets yet. Add one with `/lxc buckets add <name> <manager> <packages…>`.")}}, nil
			}
			var lines []string
			for _, b := range bs {
				line := fmt.Sprintf("*%s* (%s, %d packages)", b.Name, b.Manager, len(b.Packages))
				if b.Description != "" {
					line += " — " + b.Description
				}
				lines = append(lines, line)
			}
			return &Response{Blocks: append([]Block{HeaderBlock(fmt.Sprintf("Buckets (%d)", len(bs)))}, TextBlocks(strings.Join(lines, "\n"))...)}, nil
		},
	}
}

func bucketArg() Arg { return Arg{Name: "name", Required: true, Help: "bucket name"} }

func (r *Router) bucketShowCommand() *Command {
	return &Command{
		Name:      "buckets show",
		Args:      []Arg{bucketArg()},
		Summary:   "the packages of one bucket",
		Role:      provision.RoleViewer,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			b, err := r.b.Bucket(ctx, c.inv.Arg("name"))
			if err != nil {
				if provisionIsNotFound(err) {
					return nil, provision.Userf(provision.ErrNotFound, "no bucket %q; see /lxc buckets", c.inv.Arg("name"))
				}
				return nil, err
			}
			var lines []string
			for _, p := range b.Packages {
				line := p.Name
				if p.Install != "" {
					line += " | " + p.Check + " | " + p.Install
				}
				lines = append(lines, line)
			}
			resp := &Response{Blocks: []Block{HeaderBlock(fmt.Sprintf("Bucket %s (%s)", b.Name, b.Manager))}}
			if b.Description != "" {
				resp.Blocks = append(resp.Blocks, ContextBlock(b.Description))
			}
			codeOrFile(resp, b.Name+"."+string(b.Manager), strings.Join(lines, "\n"))
			return resp, nil
		},
	}
}

func checkManager(s string) error {
	switch provision.Manager(s) {
	case provision.ManagerApt, provision.ManagerPip, provision.ManagerNpm, provision.ManagerCustom:
		return nil
	}
	return fmt.Errorf("%q is not a package manager; use apt, pip, npm or custom", clip(s, 40))
}

func (r *Router) bucketAddCommand() *Command {
	return &Command{
		Name: "buckets add",
		Args: []Arg{bucketArg(), {Name: "manager", Required: true, Help: "apt, pip, npm or custom"},
			{Name: "packages", Variadic: true, Help: "package names (custom: 'name|check|install')"}},
		Opts:      []Opt{{Name: "description", Type: TypeString, Meta: "TEXT", Help: "what the bucket is for"}},
		Summary:   "add or replace a package bucket",
		Example:   "buckets add tools apt curl jq htop",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName, "manager": checkManager},
		run: func(ctx context.Context, c *call) (*Response, error) {
			if len(c.inv.Rest) == 0 {
				return nil, usagef(c.inv.Command, "missing <packages…>: name at least one package")
			}
			b := &provision.Bucket{Name: c.inv.Arg("name"), Manager: provision.Manager(c.inv.Arg("manager")), Description: c.inv.Opt("description")}
			for _, p := range c.inv.Rest {
				pk := provision.Package{Name: p}
				if b.Manager == provision.ManagerCustom {
					parts := strings.Split(p, "|")
					if len(parts) < 3 {
						return nil, usagef(c.inv.Command, "custom packages are written 'name|check command|install command'")
					}
					pk = provision.Package{Name: parts[0], Check: parts[1], Install: parts[2]}
				}
				b.Packages = append(b.Packages, pk)
			}
			c.audit.Target = b.Name
			if err := r.b.SaveBucket(ctx, c.principal(), b); err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock(fmt.Sprintf("✅ Bucket *%s* (%s) saved with %d packages.", b.Name, b.Manager, len(b.Packages)))}}, nil
		},
	}
}

func (r *Router) bucketRemoveCommand() *Command {
	return &Command{
		Name:      "buckets remove",
		Args:      []Arg{bucketArg()},
		Summary:   "remove a package bucket",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			c.audit.Target = c.inv.Arg("name")
			if err := r.b.RemoveBucket(ctx, c.principal(), c.inv.Arg("name")); err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock("✅ Bucket *" + c.inv.Arg("name") + "* removed.")}}, nil
		},
	}
}
