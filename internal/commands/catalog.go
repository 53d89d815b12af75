package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func (r *Router) templatesCommand() *Command {
	return &Command{
		Name:    "templates",
		Args:    []Arg{{Name: "search", Help: "a word or tag to look for"}},
		Summary: "templates you can create containers from",
		Example: "templates web",
		Role:    provision.RoleViewer,
		run: func(ctx context.Context, c *call) (*Response, error) {
			ts, err := r.b.Templates(ctx, c.inv.Arg("search"))
			if err != nil {
				return nil, err
			}
			if len(ts) == 0 {
				return &Response{Blocks: []Block{TextBlock("No templates match. Admins import them with `/lxc template sync`.")}}, nil
			}
			var lines []string
			var opts []Option
			for _, t := range ts {
				line := fmt.Sprintf("*%s*", t.Name)
				if t.App != "" && t.App != t.Name {
					line += " (" + t.App + ")"
				}
				if t.Description != "" {
					line += " — " + t.Description
				}
				if len(t.Tags) > 0 {
					line += " `" + strings.Join(t.Tags, "` `") + "`"
				}
				lines = append(lines, line)
				if len(opts) < MaxOptions {
					opts = append(opts, Option{Label: clip(t.Name, MaxButtonLabel), Value: quoteArg(t.Name)})
				}
			}
			blocks := []Block{HeaderBlock(fmt.Sprintf("Templates (%d)", len(ts)))}
			blocks = append(blocks, TextBlocks(strings.Join(lines, "\n"))...)
			blocks = append(blocks, SelectBlock(Select{ActionID: ActCreateStart, Placeholder: "Create from a template…", Options: opts}))
			return &Response{Blocks: blocks}, nil
		},
	}
}

func templateArg() Arg { return Arg{Name: "name", Required: true, Help: "template name"} }

func (r *Router) templateShowCommand() *Command {
	return &Command{
		Name:      "template show",
		Args:      []Arg{templateArg()},
		Summary:   "a template's settings, scripts, files and buckets",
		Example:   "template show nginx",
		Role:      provision.RoleViewer,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			t, err := r.b.Template(ctx, c.inv.Arg("name"))
			if err != nil {
				return nil, templateNotFound(c.inv.Arg("name"), err)
			}
			return &Response{Blocks: templateCard(t)}, nil
		},
	}
}

func templateNotFound(name string, err error) error {
	if provisionIsNotFound(err) {
		return provision.Userf(provision.ErrNotFound, "no template %q; see /lxc templates", name)
	}
	return err
}

func templateCard(t *provision.Template) []Block {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	blocks := []Block{HeaderBlock("Template " + t.Name)}
	if t.Description != "" {
		blocks = append(blocks, TextBlocks(t.Description)...)
	}
	blocks = append(blocks, FieldsBlock(
		Pair{"OS", orNone(t.OSTemplate)},
		Pair{"CPU / memory", fmt.Sprintf("%d cores / %d MiB (+%d swap)", t.Cores, t.MemoryMiB, t.SwapMiB)},
		Pair{"Disk", fmt.Sprintf("%d GiB on %s", t.DiskGiB, orDash(t.Storage))},
		Pair{"Bridge", orDash(t.Bridge)},
		Pair{"Unprivileged", yes(t.Unprivileged)},
		Pair{"Features", fmt.Sprintf("nesting %s, keyctl %s, fuse %s", yes(t.Nesting), yes(t.Keyctl), yes(t.Fuse))},
		Pair{"Tags", orNone(strings.Join(t.Tags, ", "))},
		Pair{"Buckets", orNone(strings.Join(t.Buckets, ", "))},
	))
	var lines []string
	for _, s := range t.Scripts {
		mark := "☑"
		if !s.Enabled {
			mark = "☐"
		}
		lines = append(lines, mark+" "+s.Name)
	}
	for _, f := range t.Files {
		lines = append(lines, fmt.Sprintf("📄 %s → %s (%s)", f.Name, f.TargetDir, f.Policy))
	}
	if len(lines) > 0 {
		blocks = append(blocks, TextBlocks(strings.Join(lines, "\n"))...)
	}
	blocks = append(blocks, ButtonBlocks(Button{Label: "Create from " + clip(t.Name, 50), ActionID: ActCreateStart, Value: quoteArg(t.Name), Style: StylePrimary})...)
	return blocks
}

func (r *Router) templateEditCommand() *Command {
	return &Command{
		Name: "template edit",
		Args: []Arg{templateArg()},
		Opts: []Opt{
			{Name: "description", Type: TypeString, Meta: "TEXT", Help: "description"},
			{Name: "tags", Type: TypeString, Meta: "a;b", Help: "tags, replacing the current ones"},
			{Name: "cores", Type: TypeInt, Meta: "N", Help: "CPU cores", Min: 1, Max: 512},
			{Name: "memory", Type: TypeInt, Meta: "MiB", Help: "memory", Min: 16, Max: 4194304},
			{Name: "swap", Type: TypeInt, Meta: "MiB", Help: "swap", Min: 0, Max: 4194304},
			{Name: "disk", Type: TypeInt, Meta: "GiB", Help: "disk", Min: 1, Max: 131072},
			{Name: "storage", Type: TypeString, Meta: "S", Help: "storage", Check: checkName},
			{Name: "bridge", Type: TypeString, Meta: "B", Help: "bridge", Check: checkName},
			{Name: "enable-script", Type: TypeString, Meta: "a,b", Help: "scripts to enable"},
			{Name: "disable-script", Type: TypeString, Meta: "a,b", Help: "scripts to disable"},
			{Name: "add-bucket", Type: TypeString, Meta: "a,b", Help: "buckets to include"},
			{Name: "remove-bucket", Type: TypeString, Meta: "a,b", Help: "buckets to leave out"},
		},
		Summary:   "change a template's settings, scripts or buckets",
		Example:   "template edit nginx --cores 2 --disable-script 20-tls.sh",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			inv := c.inv
			if len(inv.Order) == 0 {
				return nil, usagef(inv.Command, "nothing to change: give at least one option")
			}
			edit := TemplateEdit{
				Description: inv.Opt("description"), Tags: splitList(inv.Opt("tags")),
				Cores: inv.Int("cores", 0), MemoryMiB: inv.Int("memory", 0), SwapMiB: inv.Int("swap", 0), DiskGiB: inv.Int("disk", 0),
				Storage: inv.Opt("storage"), Bridge: inv.Opt("bridge"),
				EnableScripts: splitList(inv.Opt("enable-script")), DisableScripts: splitList(inv.Opt("disable-script")),
				AddBuckets: splitList(inv.Opt("add-bucket")), RemoveBuckets: splitList(inv.Opt("remove-bucket")),
			}
			c.audit.Target = inv.Arg("name")
			t, err := r.b.EditTemplate(ctx, c.principal(), inv.Arg("name"), edit)
			if err != nil {
				return nil, templateNotFound(inv.Arg("name"), err)
			}
			return &Response{Blocks: append([]Block{TextBlock("✅ Template *" + t.Name + "* updated.")}, templateCard(t)...)}, nil
		},
	}
}

func (r *Router) templateSyncCommand() *Command {
	return &Command{
		Name:    "template sync",
		Summary: "import the templates directory again",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			rep, err := r.b.SyncTemplates(ctx, c.principal())
			if err != nil {
				return nil, err
			}
			text := fmt.Sprintf("✅ Imported %d templates", len(rep.Imported))
			if len(rep.Imported) > 0 {
				text += ": " + strings.Join(rep.Imported, ", ")
			}
			blocks := TextBlocks(text)
			if len(rep.Failed) > 0 {
				names := make([]string, 0, len(rep.Failed))
				for n := range rep.Failed {
					names = append(names, n)
				}
				sort.Strings(names)
				var lines []string
				for _, n := range names {
					lines = append(lines, fmt.Sprintf("❌ *%s*: %s", n, rep.Failed[n]))
				}
				blocks = append(blocks, TextBlocks(strings.Join(lines, "\n"))...)
			}
			return &Response{Visibility: InChannel, Blocks: blocks}, nil
		},
	}
}

func (r *Router) templateExportCommand() *Command {
	return &Command{
		Name:      "template export",
		Args:      []Arg{templateArg()},
		Summary:   "download a template in the directory format (.tar.gz)",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"name": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			name := c.inv.Arg("name")
			c.audit.Target = name
			data, err := r.b.ExportTemplate(ctx, name)
			if err != nil {
				return nil, templateNotFound(name, err)
			}
			return &Response{
				Blocks: []Block{ContextBlock(fmt.Sprintf("Template %s in the directory format (%d bytes).", name, len(data)))},
				Files:  []File{{Name: name + ".tar.gz", Content: data}},
			}, nil
		},
	}
}
