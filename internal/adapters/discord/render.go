package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// Discord's message limits.
const (
	maxContent      = 2000
	maxEmbeds       = 10
	maxEmbedTotal   = 6000
	maxDescription  = 4096
	maxEmbedFields  = 25
	maxFieldValue   = 1024
	maxFieldName    = 256
	maxTitle        = 256
	maxRows         = 5
	maxRowButtons   = 5
	maxButtonLabel  = 80
	maxCustomID     = 100
	maxSelectOption = 25
	maxOptionValue  = 100
	maxModalTitle   = 45
	maxModalInputs  = 5
	maxInputLabel   = 45
	maxInputValue   = 4000
	progressWidth   = 20
)

// Embed colours, from the title's status emoji.
const (
	colorDefault = 0x5865F2
	colorGreen   = 0x2ECC71
	colorRed     = 0xE74C3C
	colorYellow  = 0xF1C40F
	colorGrey    = 0x95A5A6
)

// msgBuilder lays blocks out into messages: one embed per message unless
// a limit forces more, further messages when a message is full, the
// components on the last message.
type msgBuilder struct {
	msgs  []outMessage
	total int // embed characters in the current message
	rows  []actionRow
	acc   []component // section accessories, gathered into rows
}

func (b *msgBuilder) msg() *outMessage {
	if len(b.msgs) == 0 {
		b.msgs = append(b.msgs, outMessage{})
	}
	return &b.msgs[len(b.msgs)-1]
}

func (b *msgBuilder) embed() *embed {
	m := b.msg()
	if len(m.Embeds) == 0 {
		m.Embeds = append(m.Embeds, embed{Color: colorDefault})
	}
	return &m.Embeds[len(m.Embeds)-1]
}

// room makes space for n more characters in a new or current embed.
func (b *msgBuilder) room(n int, newEmbed bool) *embed {
	m := b.msg()
	if b.total+n > maxEmbedTotal || newEmbed && len(m.Embeds) >= maxEmbeds {
		color := b.embed().Color
		b.msgs = append(b.msgs, outMessage{Embeds: []embed{{Color: color}}})
		b.total = 0
		return b.embed()
	}
	if newEmbed {
		color := b.embed().Color
		m.Embeds = append(m.Embeds, embed{Color: color})
	}
	return b.embed()
}

func (b *msgBuilder) title(t string) {
	t = clipRunes(t, maxTitle)
	e := b.embed()
	if e.Title != "" || e.Description != "" || len(e.Fields) > 0 {
		// A second header starts a section in bold.
		b.text("**" + t + "**")
		return
	}
	e = b.room(utf8.RuneCountInString(t), false)
	e.Title = t
	e.Color = titleColor(t)
	b.total += utf8.RuneCountInString(t)
}

func (b *msgBuilder) text(s string) {
	for _, part := range splitRunes(s, maxDescription-1) {
		n := utf8.RuneCountInString(part)
		e := b.embed()
		cur := utf8.RuneCountInString(e.Description)
		sep := 0
		if cur > 0 {
			sep = 1
		}
		newEmbed := cur+sep+n > maxDescription || len(e.Fields) > 0
		e = b.room(n+sep, newEmbed)
		if e.Description != "" {
			e.Description += "\n"
			b.total++
		}
		e.Description += part
		b.total += n
	}
}

func (b *msgBuilder) field(name, value string) {
	name = clipRunes(strings.TrimSpace(name), maxFieldName)
	if name == "" {
		name = "\u200b"
	}
	if strings.TrimSpace(value) == "" {
		value = "—"
	}
	for i, part := range splitRunes(value, maxFieldValue) {
		if i > 0 {
			name = name + " (cont.)"
		}
		n := utf8.RuneCountInString(name) + utf8.RuneCountInString(part)
		e := b.room(n, len(b.embed().Fields) >= maxEmbedFields)
		e.Fields = append(e.Fields, embedField{Name: name, Value: part, Inline: utf8.RuneCountInString(part) <= 40})
		b.total += n
	}
}

func (b *msgBuilder) row(cs ...component) {
	b.flushAccessories()
	b.rows = append(b.rows, actionRow{Type: 1, Components: cs})
}

func (b *msgBuilder) flushAccessories() {
	for len(b.acc) > 0 {
		n := min(len(b.acc), maxRowButtons)
		b.rows = append(b.rows, actionRow{Type: 1, Components: b.acc[:n:n]})
		b.acc = b.acc[n:]
	}
}

// finish puts the components on the last message, spilling rows beyond
// five into further messages so no action is dropped.
func (b *msgBuilder) finish() []outMessage {
	b.flushAccessories()
	if len(b.msgs) == 0 && len(b.rows) == 0 {
		b.text("Done.")
	}
	rows := b.rows
	for len(rows) > 0 {
		m := b.msg()
		if len(m.Components) >= maxRows {
			more := "more actions"
			b.msgs = append(b.msgs, outMessage{Content: &more})
			m = b.msg()
		}
		n := min(len(rows), maxRows-len(m.Components))
		m.Components = append(m.Components, rows[:n]...)
		rows = rows[n:]
	}
	return b.msgs
}

// render turns a response (not its form) into one or more messages; the
// first is the reply, the others follow it. Files ride on the first.
func (a *Adapter) render(ctx context.Context, resp commands.Response) ([]outMessage, error) {
	var b msgBuilder
	for _, blk := range resp.Blocks {
		switch blk.Kind {
		case commands.BlockHeader:
			b.title(blk.Text)
		case commands.BlockText:
			b.text(markdown(blk.Text))
		case commands.BlockSection:
			b.text(markdown(blk.Text))
			if blk.Accessory != nil {
				c, err := a.button(ctx, *blk.Accessory)
				if err != nil {
					return nil, err
				}
				b.acc = append(b.acc, c)
			}
		case commands.BlockContext:
			b.text("-# " + strings.ReplaceAll(markdown(blk.Text), "\n", "\n-# "))
		case commands.BlockDivider:
			b.text("───")
		case commands.BlockProgress:
			b.text("`" + commands.ProgressBar(blk.Percent, progressWidth) + "` " + markdown(blk.Text))
		case commands.BlockCode:
			b.text("```\n" + strings.ReplaceAll(blk.Text, "```", "`\u200b``") + "\n```")
		case commands.BlockFields:
			for _, f := range blk.Fields {
				b.field(markdown(f.Label), markdown(f.Value))
			}
		case commands.BlockButtons:
			var row []component
			for _, btn := range blk.Buttons {
				c, err := a.button(ctx, btn)
				if err != nil {
					return nil, err
				}
				row = append(row, c)
				if len(row) == maxRowButtons {
					b.row(row...)
					row = nil
				}
			}
			if len(row) > 0 {
				b.row(row...)
			}
		case commands.BlockSelect:
			if blk.Select == nil || len(blk.Select.Options) == 0 {
				continue
			}
			c, err := a.selectMenu(ctx, *blk.Select)
			if err != nil {
				return nil, err
			}
			b.row(c)
		}
	}
	msgs := b.finish()
	for _, f := range resp.Files {
		msgs[0].Attachments = append(msgs[0].Attachments, attachment{ID: len(msgs[0].files), Filename: f.Name})
		msgs[0].files = append(msgs[0].files, fileUpload{name: f.Name, content: f.Content})
	}
	for i := range msgs {
		if resp.Visibility == commands.Ephemeral {
			msgs[i].Flags = flagEphemeral
		}
		// Nothing the bot posts pings anyone.
		msgs[i].AllowedMentions = map[string]any{"parse": []string{}}
		if msgs[i].Components == nil {
			msgs[i].Components = []actionRow{}
		}
		if msgs[i].Embeds == nil {
			msgs[i].Embeds = []embed{}
		}
	}
	return msgs, nil
}

func titleColor(t string) int {
	switch {
	case strings.HasPrefix(t, "🟢"):
		return colorGreen
	case strings.HasPrefix(t, "🔴"):
		return colorRed
	case strings.HasPrefix(t, "🟡"):
		return colorYellow
	case strings.HasPrefix(t, "⚪"):
		return colorGrey
	}
	return colorDefault
}

// Button styles.
const (
	stylePrimary   = 1
	styleSecondary = 2
	styleDanger    = 4
	styleLink      = 5
)

// Custom id prefixes. A custom id holds at most 100 characters, so a long
// value or a confirmation is stored server-side and the id carries its key.
const (
	cidAction  = "a" // a|<action>|<value>
	cidStored  = "k" // k|<key>: a stored button
	cidConfirm = "c" // c|<key>: a stored button that asks first
	cidDismiss = "x" // x|: close a confirm step
	cidSelect  = "s" // s|<action>: the chosen option is the value
	cidModal   = "f" // f|<session>: a modal
	cidFormSel = "g" // g|<session>|<field>: a select of a form's select step
	cidFormGo  = "o" // o|<session>: open the form's modal (or select step)
)

// storedButton is a button kept server-side under a short key.
type storedButton struct {
	Action  string            `json:"action"`
	Value   string            `json:"value"`
	Confirm *commands.Confirm `json:"confirm,omitempty"`
	// Asked is set on a confirm step's Confirm button: the message whose
	// button asked.
	Asked *askedFrom `json:"asked,omitempty"`
}

// askedFrom is the message a confirm step was asked from (a job card, a
// container card). The step itself is a separate private message, so the
// answer to its Confirm needs this to reach the card's thread. ID is
// empty when the message is not known.
type askedFrom struct {
	ID        string `json:"id,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
	Ephemeral bool   `json:"ephemeral,omitempty"`
}

func (a *Adapter) button(ctx context.Context, btn commands.Button) (component, error) {
	c := component{Type: 2, Label: clipRunes(btn.Label, maxButtonLabel)}
	if c.Label == "" {
		c.Label = "…"
	}
	if btn.URL != "" {
		c.Style, c.URL = styleLink, btn.URL
		return c, nil
	}
	switch btn.Style {
	case commands.StylePrimary:
		c.Style = stylePrimary
	case commands.StyleDanger:
		c.Style = styleDanger
	default:
		c.Style = styleSecondary
	}
	if btn.ActionID == formGoAction {
		c.CustomID = cidFormGo + "|" + btn.Value
		return c, nil
	}
	id := cidAction + "|" + btn.ActionID + "|" + btn.Value
	if btn.Confirm != nil || len(id) > maxCustomID {
		prefix := cidStored
		if btn.Confirm != nil {
			prefix = cidConfirm
		}
		key, err := a.storeJSON(ctx, "btn", storedButton{Action: btn.ActionID, Value: btn.Value, Confirm: btn.Confirm})
		if err != nil {
			return component{}, fmt.Errorf("storing button %q: %w", btn.Label, err)
		}
		id = prefix + "|" + key
	}
	c.CustomID = id
	return c, nil
}

func (a *Adapter) selectMenu(ctx context.Context, s commands.Select) (component, error) {
	c := component{Type: 3, CustomID: clipBytes(cidSelect+"|"+s.ActionID, maxCustomID), Placeholder: clipRunes(s.Placeholder, 150)}
	for _, o := range s.Options[:min(len(s.Options), maxSelectOption)] {
		v, err := a.optionValue(ctx, o.Value)
		if err != nil {
			return component{}, err
		}
		c.Options = append(c.Options, selectOption{Label: clipRunes(o.Label, 100), Value: v})
	}
	return c, nil
}

// optionValue keeps a select value within 100 characters, storing longer
// ones (and empty ones, which Discord refuses) under a key.
func (a *Adapter) optionValue(ctx context.Context, v string) (string, error) {
	if v != "" && len(v) <= maxOptionValue && !strings.HasPrefix(v, "k|") {
		return v, nil
	}
	key, err := a.storeJSON(ctx, "val", v)
	if err != nil {
		return "", fmt.Errorf("storing a select value: %w", err)
	}
	return "k|" + key, nil
}

func (a *Adapter) resolveOptionValue(ctx context.Context, v string) (string, error) {
	key, ok := strings.CutPrefix(v, "k|")
	if !ok {
		return v, nil
	}
	var s string
	if err := a.loadJSON(ctx, "val", key, &s); err != nil {
		return "", err
	}
	return s, nil
}

// storeJSON keeps v under a key derived from its content, so rendering
// the same card twice gives the same custom ids.
func (a *Adapter) storeJSON(ctx context.Context, kind string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append([]byte(kind+":"), data...))
	key := hex.EncodeToString(sum[:12])
	if err := a.store.Put(ctx, kind+":"+key, data, storedTTL); err != nil {
		return "", err
	}
	return key, nil
}

func (a *Adapter) loadJSON(ctx context.Context, kind, key string, v any) error {
	data, ok, err := a.store.Get(ctx, kind+":"+key)
	if err != nil {
		return err
	}
	if !ok {
		return errExpired
	}
	return json.Unmarshal(data, v)
}

var (
	boldRe     = regexp.MustCompile(`(^|[\s(>])\*([^*\n]+?)\*`)
	linkRe     = regexp.MustCompile(`<(https?://[^|>\s]+)\|([^>]+)>`)
	shortcodes = strings.NewReplacer(":warning:", "⚠️", ":x:", "❌", ":white_check_mark:", "✅", ":hourglass:", "⏳")
)

// markdown turns the core's markdown-lite (Slack-like *bold* and
// <url|label>) into Discord markdown, leaving code spans alone.
func markdown(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 { // even parts are outside code spans
		p := shortcodes.Replace(parts[i])
		p = boldRe.ReplaceAllString(p, "$1**$2**")
		p = linkRe.ReplaceAllString(p, "[$2]($1)")
		parts[i] = p
	}
	return strings.Join(parts, "`")
}

// splitRunes cuts s into parts of at most n runes, at line breaks where
// possible; nothing is dropped.
func splitRunes(s string, n int) []string {
	var parts []string
	for utf8.RuneCountInString(s) > n {
		cut, count := len(s), 0
		for i := range s {
			if count == n {
				cut = i
				break
			}
			count++
		}
		if j := strings.LastIndexByte(s[:cut], '\n'); j > 0 {
			cut = j
		}
		parts = append(parts, s[:cut])
		s = strings.TrimPrefix(s[cut:], "\n")
	}
	return append(parts, s)
}

func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
