package slack

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// Block Kit limits (see PLATFORM-LIMITS.md).
const (
	maxMessageBlocks = 50
	maxSectionText   = 3000
	maxFields        = 10
	maxFieldText     = 2000
	maxActions       = 25
	maxButtonText    = 75
	maxOptionText    = 75
	maxOptionValue   = 150
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxConfirmButton = 30
	maxViewTitle     = 24
	maxMetadata      = 3000
	maxFallbackText  = 300
	progressWidth    = 20
)

// emptyOption stands for an option whose neutral value is "" (Slack option
// values must not be empty); it is mapped back on the way in.
const emptyOption = "__none__"

// renderBlocks turns neutral blocks into Block Kit blocks. Nothing is
// dropped: long text and code are split into several sections, and more
// than ten fields into several field sections. The caller splits the result
// into messages of at most maxMessageBlocks (see splitMessages).
func renderBlocks(in []commands.Block) []slack.Block {
	var out []slack.Block
	for _, b := range in {
		switch b.Kind {
		case commands.BlockHeader:
			out = append(out, slack.NewHeaderBlock(plain(clipRunes(b.Text, 150))))
		case commands.BlockText:
			for _, part := range splitRunes(b.Text, maxSectionText) {
				out = append(out, slack.NewSectionBlock(mrkdwn(part), nil, nil))
			}
		case commands.BlockSection:
			parts := splitRunes(b.Text, maxSectionText)
			for i, part := range parts {
				var acc *slack.Accessory
				if i == len(parts)-1 && b.Accessory != nil {
					acc = slack.NewAccessory(renderButton(*b.Accessory))
				}
				out = append(out, slack.NewSectionBlock(mrkdwn(part), nil, acc))
			}
		case commands.BlockFields:
			for i := 0; i < len(b.Fields); i += maxFields {
				var fields []*slack.TextBlockObject
				for _, f := range b.Fields[i:min(i+maxFields, len(b.Fields))] {
					fields = append(fields, mrkdwn(clipRunes("*"+f.Label+"*\n"+f.Value, maxFieldText)))
				}
				out = append(out, slack.NewSectionBlock(nil, fields, nil))
			}
		case commands.BlockDivider:
			out = append(out, slack.NewDividerBlock())
		case commands.BlockContext:
			for _, part := range splitRunes(b.Text, maxSectionText) {
				out = append(out, slack.NewContextBlock("", mrkdwn(part)))
			}
		case commands.BlockProgress:
			text := "`" + commands.ProgressBar(b.Percent, progressWidth) + "`"
			if b.Text != "" {
				text += "  " + b.Text
			}
			out = append(out, slack.NewSectionBlock(mrkdwn(clipRunes(text, maxSectionText)), nil, nil))
		case commands.BlockCode:
			out = append(out, codeSections(b.Text)...)
		case commands.BlockButtons:
			for i := 0; i < len(b.Buttons); i += maxActions {
				var els []slack.BlockElement
				seen := map[string]int{}
				for _, btn := range b.Buttons[i:min(i+maxActions, len(b.Buttons))] {
					el := renderButton(btn)
					el.ActionID = uniqueActionID(seen, el.ActionID)
					els = append(els, el)
				}
				out = append(out, slack.NewActionBlock("", els...))
			}
		case commands.BlockSelect:
			if b.Select == nil || len(b.Select.Options) == 0 {
				continue
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(clipRunes(orText(b.Select.Placeholder, "Choose…"), 150)),
				b.Select.ActionID, renderOptions(b.Select.Options)...)
			out = append(out, slack.NewActionBlock("", sel))
		}
	}
	for i, blk := range out {
		setBlockID(blk, "b"+strconv.Itoa(i))
	}
	return out
}

// codeSections renders preformatted text as ``` sections of at most 3000
// characters each, fences included.
func codeSections(text string) []slack.Block {
	var out []slack.Block
	if text == "" {
		text = " "
	}
	for _, part := range splitRunes(escapeMrkdwn(text), maxSectionText-8) {
		out = append(out, slack.NewSectionBlock(mrkdwn("```"+part+"```"), nil, nil))
	}
	return out
}

func setBlockID(b slack.Block, id string) {
	switch v := b.(type) {
	case *slack.SectionBlock:
		v.BlockID = id
	case *slack.HeaderBlock:
		v.BlockID = id
	case *slack.DividerBlock:
		v.BlockID = id
	case *slack.ContextBlock:
		v.BlockID = id
	case *slack.ActionBlock:
		v.BlockID = id
	}
}

// uniqueActionID keeps action ids unique within one actions block, as
// Slack requires; parseActionID strips the suffix again.
func uniqueActionID(seen map[string]int, id string) string {
	n := seen[id]
	seen[id] = n + 1
	if n == 0 {
		return id
	}
	return id + "#" + strconv.Itoa(n)
}

// parseActionID undoes uniqueActionID.
func parseActionID(id string) string {
	base, _, _ := strings.Cut(id, "#")
	return base
}

func renderButton(b commands.Button) *slack.ButtonBlockElement {
	el := slack.NewButtonBlockElement(b.ActionID, b.Value, plain(clipRunes(b.Label, maxButtonText)))
	if b.URL != "" {
		el.URL = b.URL
		if el.ActionID == "" {
			el.ActionID = "link"
		}
	}
	switch b.Style {
	case commands.StylePrimary:
		el.Style = slack.StylePrimary
	case commands.StyleDanger:
		el.Style = slack.StyleDanger
	}
	if c := b.Confirm; c != nil {
		conf := slack.NewConfirmationBlockObject(
			plain(clipRunes(orText(c.Title, "Are you sure?"), maxConfirmTitle)),
			plain(clipRunes(orText(c.Text, "Are you sure?"), maxConfirmText)),
			plain(clipRunes(orText(c.ConfirmLabel, "Yes"), maxConfirmButton)),
			plain(clipRunes(orText(c.DenyLabel, "Cancel"), maxConfirmButton)),
		)
		if b.Style == commands.StyleDanger {
			conf.Style = slack.StyleDanger
		}
		el.Confirm = conf
	}
	return el
}

func renderOptions(opts []commands.Option) []*slack.OptionBlockObject {
	var out []*slack.OptionBlockObject
	for _, o := range opts[:min(len(opts), 100)] {
		out = append(out, renderOption(o))
	}
	return out
}

func renderOption(o commands.Option) *slack.OptionBlockObject {
	v := o.Value
	if v == "" {
		v = emptyOption
	}
	return slack.NewOptionBlockObject(clipRunes(v, maxOptionValue), plain(clipRunes(orText(o.Label, v), maxOptionText)), nil)
}

func optionValue(v string) string {
	if v == emptyOption {
		return ""
	}
	return v
}

// splitMessages cuts rendered blocks into messages Slack accepts.
func splitMessages(blocks []slack.Block) [][]slack.Block {
	if len(blocks) == 0 {
		return [][]slack.Block{nil}
	}
	var out [][]slack.Block
	for len(blocks) > 0 {
		n := min(len(blocks), maxMessageBlocks)
		out = append(out, blocks[:n:n])
		blocks = blocks[n:]
	}
	return out
}

// fallbackText is the notification text of a message: its first header or
// text, shortened.
func fallbackText(in []commands.Block) string {
	for _, b := range in {
		switch b.Kind {
		case commands.BlockHeader, commands.BlockText, commands.BlockSection, commands.BlockContext:
			if b.Text != "" {
				return clipRunes(strings.SplitN(b.Text, "\n", 2)[0], maxFallbackText)
			}
		}
	}
	return "lxcbot"
}

// Form rendering.

// formCallbackPrefix marks views lxcbot opened; the rest is the form id.
const formCallbackPrefix = "lxc:"

// fieldBlockID names the input block of a field. Dependent fields carry
// their parent and a revision, so that views.update can reset them.
func fieldBlockID(f commands.Field, rev int) string {
	id := "f:" + f.Name
	if f.DependsOn != "" {
		id += ":" + f.DependsOn + ":" + strconv.Itoa(rev)
	}
	return id
}

// parseFieldBlockID returns the field name and parent of a block id made by
// fieldBlockID.
func parseFieldBlockID(id string) (name, parent string, rev int, ok bool) {
	rest, found := strings.CutPrefix(id, "f:")
	if !found || rest == "" {
		return "", "", 0, false
	}
	parts := strings.Split(rest, ":")
	name = parts[0]
	if len(parts) >= 3 {
		parent = parts[1]
		rev, _ = strconv.Atoi(parts[2])
	}
	return name, parent, rev, name != ""
}

// renderModal turns a form into a modal. Dependent select fields must
// already carry their options (see Adapter.fillDependentOptions).
func renderModal(f *commands.Form) (slack.ModalViewRequest, error) {
	if len(f.State) > maxMetadata {
		return slack.ModalViewRequest{}, fmt.Errorf("form %s state has %d bytes, more than %d", f.ID, len(f.State), maxMetadata)
	}
	parents := map[string]bool{}
	for _, fd := range f.Fields {
		if fd.DependsOn != "" {
			parents[fd.DependsOn] = true
		}
	}
	var blocks []slack.Block
	for _, fd := range f.Fields {
		blocks = append(blocks, renderField(fd, parents[fd.Name], 0))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(clipRunes(orText(f.Title, "lxcbot"), maxViewTitle)),
		Submit:          plain(clipRunes(orText(f.Submit, "Submit"), maxViewTitle)),
		Close:           plain("Cancel"),
		CallbackID:      formCallbackPrefix + f.ID,
		PrivateMetadata: f.State,
		Blocks:          slack.Blocks{BlockSet: blocks},
	}, nil
}

func renderField(fd commands.Field, dispatch bool, rev int) *slack.InputBlock {
	label := plain(clipRunes(orText(fd.Label, fd.Name), 2000))
	var hint *slack.TextBlockObject
	if fd.Help != "" {
		hint = plain(clipRunes(fd.Help, 2000))
	}
	var placeholder *slack.TextBlockObject
	if fd.Placeholder != "" {
		placeholder = plain(clipRunes(fd.Placeholder, 150))
	}
	var el slack.BlockElement
	switch fd.Kind {
	case commands.FieldSelect:
		opts := fd.Options
		if len(opts) == 0 {
			opts = []commands.Option{{Label: "default", Value: ""}}
		}
		if placeholder == nil {
			placeholder = plain("Choose…")
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, fd.Name, renderOptions(opts)...)
		for _, o := range opts {
			if o.Value == fd.Default && (fd.Default != "" || fd.DependsOn != "") {
				sel.InitialOption = renderOption(o)
			}
		}
		el = sel
	case commands.FieldNumber:
		num := slack.NewNumberInputBlockElement(placeholder, fd.Name, false)
		num.InitialValue = fd.Default
		if fd.Min != nil {
			num.MinValue = strconv.Itoa(*fd.Min)
		}
		if fd.Max != nil {
			num.MaxValue = strconv.Itoa(*fd.Max)
		}
		el = num
	case commands.FieldBool:
		opt := slack.NewOptionBlockObject("true", plain(clipRunes(orText(fd.Label, fd.Name), maxOptionText)), nil)
		cb := slack.NewCheckboxGroupsBlockElement(fd.Name, opt)
		if fd.Default == "true" {
			cb.InitialOptions = []*slack.OptionBlockObject{opt}
		}
		el = cb
	default:
		in := slack.NewPlainTextInputBlockElement(placeholder, fd.Name)
		in.InitialValue = fd.Default
		in.Multiline = fd.Kind == commands.FieldMultiline
		el = in
	}
	blk := slack.NewInputBlock(fieldBlockID(fd, rev), label, hint, el)
	blk.Optional = !fd.Required
	blk.DispatchAction = dispatch && fd.Kind == commands.FieldSelect
	return blk
}

// formValues reads the submitted values of a view, keyed by field name.
func formValues(state *slack.ViewState) map[string]string {
	out := map[string]string{}
	if state == nil {
		return out
	}
	for blockID, actions := range state.Values {
		name, _, _, ok := parseFieldBlockID(blockID)
		if !ok {
			continue
		}
		for _, a := range actions {
			out[name] = actionValue(a)
		}
	}
	return out
}

// actionValue is the neutral value of an input or select action.
func actionValue(a slack.BlockAction) string {
	switch a.Type {
	case slack.ActionType(slack.OptTypeStatic), slack.ActionType(slack.OptTypeExternal):
		return optionValue(a.SelectedOption.Value)
	case slack.ActionType(slack.METCheckboxGroups):
		for _, o := range a.SelectedOptions {
			if o.Value == "true" {
				return "true"
			}
		}
		return "false"
	}
	if a.SelectedOption.Value != "" {
		return optionValue(a.SelectedOption.Value)
	}
	return a.Value
}

// formErrors maps field-name errors onto the view's block ids.
func formErrors(view slack.View, errs map[string]string) map[string]string {
	ids := map[string]string{}
	for _, b := range view.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			if name, _, _, ok := parseFieldBlockID(in.BlockID); ok {
				ids[name] = in.BlockID
			}
		}
	}
	if view.State != nil {
		for blockID := range view.State.Values {
			if name, _, _, ok := parseFieldBlockID(blockID); ok {
				if _, known := ids[name]; !known {
					ids[name] = blockID
				}
			}
		}
	}
	out := map[string]string{}
	for name, msg := range errs {
		id, ok := ids[name]
		if !ok {
			id = "f:" + name
		}
		out[id] = clipRunes(msg, 150)
	}
	return out
}

// Text helpers.

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// escapeMrkdwn escapes the three characters Slack reserves in text.
func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func orText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// clipRunes shortens a label to n runes with an ellipsis. Only labels are
// clipped; content is split instead.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// splitRunes cuts s into parts of at most n runes, at line breaks where
// possible, dropping nothing.
func splitRunes(s string, n int) []string {
	var parts []string
	for utf8.RuneCountInString(s) > n {
		cut := 0
		for i := 0; i < n; i++ {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
		}
		if i := strings.LastIndexByte(s[:cut], '\n'); i > 0 {
			parts = append(parts, s[:i])
			s = s[i+1:]
			continue
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}
