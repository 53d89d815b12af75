package discord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// formGoAction marks a button that opens a stored form (o|<session>).
const formGoAction = "\x00form.open"

// formSession is an open form kept server-side: the form the core asked
// for and the values chosen or typed so far. Modals cannot hold selects in
// this API version, so select fields are asked first, in an ephemeral
// message with select menus, and the modal holds the text fields.
type formSession struct {
	Form   commands.Form     `json:"form"`
	Values map[string]string `json:"values"`
	// Options are the current choices of select fields whose options
	// depend on another field.
	Options map[string][]commands.Option `json:"options,omitempty"`
}

func newSession(f *commands.Form, _ *received) *formSession {
	s := &formSession{Form: *f, Values: map[string]string{}, Options: map[string][]commands.Option{}}
	for _, fd := range f.Fields {
		if fd.Default != "" {
			s.Values[fd.Name] = fd.Default
		}
	}
	return s
}

func (rc *received) session() (*formSession, bool) { return rc.sess, rc.sess != nil }

func (a *Adapter) saveSession(ctx context.Context, s *formSession) (string, error) {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a form key: %w", err)
	}
	key := hex.EncodeToString(b[:])
	return key, a.putSession(ctx, key, s)
}

func (a *Adapter) putSession(ctx context.Context, key string, s *formSession) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := a.store.Put(ctx, "form:"+key, data, sessionTTL); err != nil {
		return fmt.Errorf("saving form %s: %w", key, err)
	}
	return nil
}

func (a *Adapter) loadSession(ctx context.Context, key string) (*formSession, error) {
	var s formSession
	if err := a.loadJSON(ctx, "form", key, &s); err != nil {
		return nil, err
	}
	if s.Values == nil {
		s.Values = map[string]string{}
	}
	if s.Options == nil {
		s.Options = map[string][]commands.Option{}
	}
	return &s, nil
}

// selectFields are the form's select fields, asked before the modal.
func selectFields(f *commands.Form) []commands.Field {
	var out []commands.Field
	for _, fd := range f.Fields {
		if fd.Kind == commands.FieldSelect {
			out = append(out, fd)
		}
	}
	return out
}

// openForm answers with the form: a modal at once when it has only text
// fields, else the select step first.
func (a *Adapter) openForm(ctx context.Context, rc *received, req commands.Request, f *commands.Form) {
	sess := newSession(f, rc)
	key, err := a.saveSession(ctx, sess)
	if err != nil {
		a.log.WarnContext(ctx, "saving a form", "err", err)
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ the form could not be opened; try again", true)})
		return
	}
	if len(selectFields(f)) == 0 {
		_ = a.sendAck(ctx, rc, response{Type: respModal, Data: buildModal(key, sess)})
		return
	}
	a.refreshOptions(ctx, req, sess, "")
	if err := a.putSession(ctx, key, sess); err != nil {
		a.log.WarnContext(ctx, "saving a form", "err", err)
	}
	m, err := a.selectStep(ctx, key, sess)
	if err != nil {
		a.log.WarnContext(ctx, "rendering a form's select step", "err", err)
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ the form could not be opened; try again", true)})
		return
	}
	_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: m})
}

// refreshOptions reloads the options of fields that depend on changed
// ("" = every dependent field whose parent has a value).
func (a *Adapter) refreshOptions(ctx context.Context, req commands.Request, s *formSession, changed string) {
	for _, fd := range s.Form.Fields {
		if fd.DependsOn == "" || changed != "" && fd.DependsOn != changed || s.Values[fd.DependsOn] == "" {
			continue
		}
		if changed != "" {
			delete(s.Values, fd.Name) // a choice for another parent no longer applies
		}
		opts, err := a.router.Options(ctx, req, s.Form.ID, fd.Name, s.Values)
		if err != nil {
			a.log.WarnContext(ctx, "form options", "field", fd.Name, "err", err)
			continue
		}
		s.Options[fd.Name] = opts
	}
}

// selectStep renders the ephemeral message that asks the select fields.
func (a *Adapter) selectStep(ctx context.Context, key string, s *formSession) (outMessage, error) {
	var rows []actionRow
	var asked []string
	for _, fd := range selectFields(&s.Form) {
		opts := fd.Options
		if fd.DependsOn != "" {
			opts = s.Options[fd.Name]
		}
		if len(opts) == 0 || len(rows) == maxRows-1 {
			continue
		}
		c := component{Type: 3, CustomID: clipBytes(cidFormSel+"|"+key+"|"+fd.Name, maxCustomID), Placeholder: clipRunes(fd.Label, 150)}
		for _, o := range opts[:min(len(opts), maxSelectOption)] {
			v, err := a.optionValue(ctx, o.Value)
			if err != nil {
				return outMessage{}, err
			}
			c.Options = append(c.Options, selectOption{Label: clipRunes(o.Label, 100), Value: v, Default: o.Value == s.Values[fd.Name] && s.Values[fd.Name] != ""})
		}
		rows = append(rows, actionRow{Type: 1, Components: []component{c}})
		asked = append(asked, fd.Label)
	}
	rows = append(rows, actionRow{Type: 1, Components: []component{
		{Type: 2, Style: stylePrimary, Label: "Continue", CustomID: cidFormGo + "|" + key},
		{Type: 2, Style: styleSecondary, Label: "Cancel", CustomID: cidDismiss + "|"},
	}})
	desc := "Choose " + strings.Join(asked, ", ") + ", then press Continue for the rest."
	return outMessage{
		Embeds:          []embed{{Title: clipRunes(s.Form.Title, maxTitle), Description: desc, Color: colorDefault}},
		Components:      rows,
		Flags:           flagEphemeral,
		AllowedMentions: map[string]any{"parse": []string{}},
	}, nil
}

// packed is the custom id of a text input that holds several number
// fields ("+cores+memory+disk"), used when a form has more text fields
// than a modal's five inputs.
const packedPrefix = "+"

// buildModal lays the form's non-select fields out as text inputs.
func buildModal(key string, s *formSession) modal {
	var fields []commands.Field
	for _, fd := range s.Form.Fields {
		if fd.Kind != commands.FieldSelect {
			fields = append(fields, fd)
		}
	}
	var numbers []commands.Field
	if len(fields) > maxModalInputs {
		var rest []commands.Field
		for _, fd := range fields {
			if fd.Kind == commands.FieldNumber {
				numbers = append(numbers, fd)
			} else {
				rest = append(rest, fd)
			}
		}
		if len(numbers) > 1 {
			fields = rest
		} else {
			numbers = nil
		}
	}
	var rows []actionRow
	add := func(c component) {
		if len(rows) < maxModalInputs {
			rows = append(rows, actionRow{Type: 1, Components: []component{c}})
		}
	}
	for i, fd := range fields {
		if numbers != nil && i == 1 { // after the first field (the name)
			add(packedInput(numbers, s.Values))
		}
		style := 1
		if fd.Kind == commands.FieldMultiline {
			style = 2
		}
		req := fd.Required
		ph := fd.Placeholder
		if ph == "" {
			ph = fd.Help
		}
		add(component{Type: 4, CustomID: fd.Name, Label: clipRunes(fd.Label, maxInputLabel), Style: style,
			Placeholder: clipRunes(ph, 100), Value: clipRunes(s.Values[fd.Name], maxInputValue), Required: &req, MaxLength: maxInputValue})
	}
	if numbers != nil && len(fields) <= 1 {
		add(packedInput(numbers, s.Values))
	}
	title := clipRunes(s.Form.Title, maxModalTitle)
	return modal{CustomID: cidModal + "|" + key, Title: title, Components: rows}
}

func packedInput(numbers []commands.Field, values map[string]string) component {
	var ids, labels, vals, phs []string
	for _, fd := range numbers {
		ids = append(ids, fd.Name)
		labels = append(labels, fd.Label)
		vals = append(vals, values[fd.Name])
		phs = append(phs, "default")
	}
	label := strings.Join(labels, " / ")
	if len([]rune(label)) > maxInputLabel {
		label = strings.Join(ids, " / ")
	}
	f := false
	value := strings.Join(vals, " / ")
	if strings.Trim(value, " /") == "" {
		value = ""
	}
	return component{Type: 4, CustomID: clipBytes(packedPrefix+strings.Join(ids, packedPrefix), maxCustomID), Label: clipRunes(label, maxInputLabel), Style: 1,
		Placeholder: clipRunes(strings.Join(phs, " / ")+" (blank keeps the default)", 100), Value: value, Required: &f}
}

// unpack splits submitted text inputs back into the form's fields.
func unpack(values map[string]string) map[string]string {
	out := map[string]string{}
	for id, v := range values {
		if !strings.HasPrefix(id, packedPrefix) {
			out[id] = v
			continue
		}
		names := strings.Split(strings.TrimPrefix(id, packedPrefix), packedPrefix)
		parts := strings.Split(v, "/")
		for i, n := range names {
			if i < len(parts) {
				out[n] = strings.TrimSpace(parts[i])
			} else {
				out[n] = ""
			}
		}
		if len(parts) > len(names) {
			// More numbers than fields: hand the rest to the last field so
			// the core reports it rather than dropping it.
			out[names[len(names)-1]] = strings.TrimSpace(strings.Join(parts[len(names)-1:], "/"))
		}
	}
	return out
}

// modalSubmit handles a submitted modal.
func (a *Adapter) modalSubmit(ctx context.Context, rc *received) {
	var data modalData
	if err := json.Unmarshal(rc.it.Data, &data); err != nil {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that form could not be read; run the command again", true)})
		return
	}
	prefix, key, _ := strings.Cut(data.CustomID, "|")
	if prefix != cidModal {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that form is no longer supported; run the command again", true)})
		return
	}
	sess, err := a.loadSession(ctx, key)
	if err != nil {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that form has expired; run the command again", true)})
		return
	}
	typed := map[string]string{}
	for _, row := range data.Components {
		for _, c := range row.Components {
			typed[c.CustomID] = c.Value
		}
	}
	for k, v := range unpack(typed) {
		if sess.Form.FormField(k) != nil {
			sess.Values[k] = v
		}
	}
	rc.sess = sess
	req := baseRequest(rc, commands.KindFormSubmit)
	req.Form = commands.FormSubmission{FormID: sess.Form.ID, Values: copyMap(sess.Values), State: sess.Form.State}
	a.answer(ctx, rc, req)
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// component handles a button press or select choice.
func (a *Adapter) component(ctx context.Context, rc *received) {
	var data componentData
	if err := json.Unmarshal(rc.it.Data, &data); err != nil {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that button could not be read; run the command again", true)})
		return
	}
	prefix, rest, _ := strings.Cut(data.CustomID, "|")
	chosen := ""
	if len(data.Values) > 0 {
		v, err := a.resolveOptionValue(ctx, data.Values[0])
		if err != nil {
			a.expired(ctx, rc, err)
			return
		}
		chosen = v
	}
	switch prefix {
	case cidAction:
		action, value, _ := strings.Cut(rest, "|")
		a.action(ctx, rc, action, value)
	case cidSelect:
		a.action(ctx, rc, rest, chosen)
	case cidStored, cidConfirm:
		var b storedButton
		if err := a.loadJSON(ctx, "btn", rest, &b); err != nil {
			a.expired(ctx, rc, err)
			return
		}
		if prefix == cidConfirm && b.Confirm != nil {
			a.confirmStep(ctx, rc, b)
			return
		}
		rc.asked = b.Asked
		a.action(ctx, rc, b.Action, b.Value)
	case cidDismiss:
		_ = a.sendAck(ctx, rc, response{Type: respUpdate, Data: textMessage("Not done; nothing was changed.", false)})
	case cidFormSel:
		key, field, _ := strings.Cut(rest, "|")
		a.formSelect(ctx, rc, key, field, chosen)
	case cidFormGo:
		a.formGo(ctx, rc, rest)
	default:
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that button is no longer supported; run the command again", true)})
	}
}

func (a *Adapter) expired(ctx context.Context, rc *received, err error) {
	if !errors.Is(err, errExpired) {
		a.log.WarnContext(ctx, "reading stored button state", "err", err)
	}
	_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that button has expired; run the command again", true)})
}

func (a *Adapter) action(ctx context.Context, rc *received, action, value string) {
	req := baseRequest(rc, commands.KindAction)
	req.Action = commands.ActionPayload{ID: action, Value: value}
	a.answer(ctx, rc, req)
}

// confirmStep asks before a destructive action: an ephemeral message with
// Confirm and Cancel; Confirm carries the real action and the message the
// question came from.
func (a *Adapter) confirmStep(ctx context.Context, rc *received, b storedButton) {
	yes, err := a.button(ctx, commands.Button{Label: b.Confirm.ConfirmLabel, ActionID: b.Action, Value: b.Value, Style: commands.StyleDanger})
	if err != nil {
		a.expired(ctx, rc, err)
		return
	}
	asked := &askedFrom{}
	if m := rc.it.Message; m != nil {
		asked = &askedFrom{ID: m.ID, ChannelID: firstNonEmpty(m.ChannelID, rc.it.ChannelID), Ephemeral: m.Flags&flagEphemeral != 0}
	}
	key, err := a.storeJSON(ctx, "btn", storedButton{Action: b.Action, Value: b.Value, Asked: asked})
	if err != nil {
		a.expired(ctx, rc, err)
		return
	}
	yes.CustomID = cidStored + "|" + key
	no := component{Type: 2, Style: styleSecondary, Label: clipRunes(firstNonEmpty(b.Confirm.DenyLabel, "Cancel"), maxButtonLabel), CustomID: cidDismiss + "|"}
	m := outMessage{
		Embeds:          []embed{{Title: clipRunes(b.Confirm.Title, maxTitle), Description: markdown(b.Confirm.Text), Color: colorRed}},
		Components:      []actionRow{{Type: 1, Components: []component{yes, no}}},
		Flags:           flagEphemeral,
		AllowedMentions: map[string]any{"parse": []string{}},
	}
	_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: m})
}

func (a *Adapter) formSelect(ctx context.Context, rc *received, key, field, value string) {
	sess, err := a.loadSession(ctx, key)
	if err != nil {
		a.expired(ctx, rc, err)
		return
	}
	_ = a.sendAck(ctx, rc, response{Type: respDeferredUpdate})
	sess.Values[field] = value
	a.refreshOptions(ctx, baseRequest(rc, commands.KindAutocomplete), sess, field)
	if err := a.putSession(ctx, key, sess); err != nil {
		a.log.WarnContext(ctx, "saving a form", "err", err)
		return
	}
	m, err := a.selectStep(ctx, key, sess)
	if err != nil {
		a.log.WarnContext(ctx, "rendering a form's select step", "err", err)
		return
	}
	a.editOriginalOrWarn(ctx, rc, m)
}

// formGo opens the modal of a stored form once its required selects are
// chosen.
func (a *Adapter) formGo(ctx context.Context, rc *received, key string) {
	sess, err := a.loadSession(ctx, key)
	if err != nil {
		a.expired(ctx, rc, err)
		return
	}
	var missing []string
	for _, fd := range selectFields(&sess.Form) {
		if fd.Required && sess.Values[fd.Name] == "" {
			missing = append(missing, fd.Label)
		}
	}
	if len(missing) > 0 {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("Choose "+strings.Join(missing, ", ")+" first.", true)})
		return
	}
	m := buildModal(key, sess)
	if len(m.Components) == 0 {
		// Nothing left to type: submit what was chosen.
		rc.sess = sess
		req := baseRequest(rc, commands.KindFormSubmit)
		req.Form = commands.FormSubmission{FormID: sess.Form.ID, Values: copyMap(sess.Values), State: sess.Form.State}
		a.answer(ctx, rc, req)
		return
	}
	_ = a.sendAck(ctx, rc, response{Type: respModal, Data: m})
}
