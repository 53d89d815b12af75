package console

import (
	"fmt"
	"io"
	"strings"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// choice is a numbered action the user can pick.
type choice struct {
	label   string
	action  commands.ActionPayload
	confirm *commands.Confirm
}

// render writes resp as plain text and returns its choices in order.
func render(w io.Writer, resp commands.Response, indent string) []choice {
	var choices []choice
	add := func(b commands.Button) string {
		if b.URL != "" {
			return fmt.Sprintf("%s <%s>", b.Label, b.URL)
		}
		choices = append(choices, choice{label: b.Label, action: commands.ActionPayload{ID: b.ActionID, Value: b.Value}, confirm: b.Confirm})
		return fmt.Sprintf("[%d] %s", len(choices), b.Label)
	}
	p := func(format string, args ...any) {
		for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
			fmt.Fprintf(w, "%s%s\n", indent, line)
		}
	}
	for _, b := range resp.Blocks {
		switch b.Kind {
		case commands.BlockHeader:
			p("== %s ==", b.Text)
		case commands.BlockText:
			p("%s", b.Text)
		case commands.BlockContext:
			p("(%s)", b.Text)
		case commands.BlockDivider:
			p("%s", strings.Repeat("-", 40))
		case commands.BlockFields:
			width := 0
			for _, f := range b.Fields {
				width = max(width, len([]rune(f.Label)))
			}
			for _, f := range b.Fields {
				p("  %-*s  %s", width+1, f.Label+":", f.Value)
			}
		case commands.BlockSection:
			if b.Accessory != nil {
				p("%s   %s", b.Text, add(*b.Accessory))
			} else {
				p("%s", b.Text)
			}
		case commands.BlockProgress:
			p("%s  %s", commands.ProgressBar(b.Percent, 20), b.Text)
		case commands.BlockCode:
			for _, line := range strings.Split(b.Text, "\n") {
				p("    %s", line)
			}
		case commands.BlockButtons:
			var parts []string
			for _, btn := range b.Buttons {
				parts = append(parts, add(btn))
			}
			p("%s", strings.Join(parts, "  "))
		case commands.BlockSelect:
			p("%s", b.Select.Placeholder)
			var parts []string
			for _, o := range b.Select.Options {
				parts = append(parts, add(commands.Button{Label: o.Label, ActionID: b.Select.ActionID, Value: o.Value}))
			}
			p("  %s", strings.Join(parts, "  "))
		}
	}
	for _, f := range resp.Files {
		p("[attached %s, %d bytes]", f.Name, len(f.Content))
	}
	if resp.Page != nil {
		p("(page %d of %d)", resp.Page.Number, resp.Page.Total)
	}
	return choices
}
