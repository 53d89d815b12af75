package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// deliver renders resp and sends it where it belongs. Ephemeral responses
// only ever travel through response_url, chat.postEphemeral or a modal —
// never chat.postMessage or a file upload — since they may hold
// credentials.
func (a *Adapter) deliver(ctx context.Context, o *origin, req commands.Request, resp commands.Response) {
	log := a.log.With("team", o.team, "channel", o.channel, "user", o.user)
	if resp.Form != nil {
		err := a.openForm(ctx, o, req, resp.Form)
		if err == nil {
			return
		}
		log.WarnContext(ctx, "opening a form", "form", resp.Form.ID, "err", err)
		resp.Form = nil
		resp.Blocks = append(resp.Blocks, commands.TextBlock(":warning: The form could not be opened in time; run the command again."))
	}
	if resp.FormErrors != nil {
		resp.Blocks = append(resp.Blocks, commands.TextBlock(errorsText(resp.FormErrors)))
		resp.FormErrors = nil
	}
	if o.viewID != "" {
		// A modal was opened for this request but no form came back (a
		// refusal, an unknown container): show the answer in it.
		viewID := o.viewID
		o.viewID = ""
		blocks := renderBlocks(resp.Blocks)
		inModal := resp.Visibility == commands.Ephemeral && len(resp.Files) == 0 && resp.Watch == nil && len(blocks) <= 100
		if !inModal {
			blocks = renderBlocks([]commands.Block{commands.TextBlock("Done; see the channel.")})
		}
		err := a.out.do(ctx, "views.update", func(ctx context.Context) error {
			_, err := a.api.UpdateViewContext(ctx, noticeModal(blocks), "", "", viewID)
			return err
		})
		if err != nil {
			log.WarnContext(ctx, "showing the answer in the modal", "err", err)
		} else if inModal {
			return
		}
	}
	if resp.Visibility == commands.Ephemeral {
		a.sendEphemeral(ctx, o, resp)
		o.replaceAck = false
		for _, f := range resp.Followups {
			a.deliver(ctx, o, req, f)
		}
		return
	}
	// A public post waits for its channel's pacing: send it, and what
	// follows it, off the request worker, in order.
	oc := *o
	a.goPost(func(ctx context.Context) {
		a.sendPublic(ctx, &oc, resp)
		oc.replaceAck = false
		for _, f := range resp.Followups {
			a.deliver(ctx, &oc, req, f)
		}
	})
}

// sendEphemeral shows resp to the requester only. Files are shown inline as
// code sections, split over as many messages as needed.
func (a *Adapter) sendEphemeral(ctx context.Context, o *origin, resp commands.Response) {
	blocks := renderBlocks(resp.Blocks)
	for _, f := range resp.Files {
		blocks = append(blocks, fileBlocks(f)...)
	}
	text := fallbackText(resp.Blocks)
	for i, m := range splitMessages(blocks) {
		// A slash command answers through its response_url (replacing the
		// "working…" note); a button through chat.postEphemeral, unless it
		// replaces the ephemeral message it was on.
		replace := o.replaceAck || (resp.Replace && o.ephemeralMsg)
		if i == 0 && o.responseURL != "" && (o.command || replace) {
			msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: &slack.Blocks{BlockSet: m},
				ReplaceOriginal: replace}
			err := a.out.do(ctx, "response_url", func(ctx context.Context) error {
				return slack.PostWebhookCustomHTTPContext(ctx, o.responseURL, a.hc, msg)
			})
			if err == nil {
				continue
			}
			a.log.WarnContext(ctx, "answering through response_url; trying chat.postEphemeral", "err", err)
		}
		if err := a.postEphemeral(ctx, o, text, m); err != nil {
			a.log.ErrorContext(ctx, "answer not delivered", "channel", o.channel, "user", o.user, "err", err)
			return
		}
	}
}

func (a *Adapter) postEphemeral(ctx context.Context, o *origin, text string, blocks []slack.Block) error {
	channel := o.channel
	if channel == "" {
		channel = o.user // the app's DM with the user
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	if o.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(o.threadTS))
	}
	return a.out.do(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, channel, o.user, opts...)
		return err
	})
}

func (a *Adapter) sendEphemeralText(ctx context.Context, o *origin, text string) {
	a.sendEphemeral(ctx, o, commands.Response{Blocks: []commands.Block{commands.TextBlock(text)}})
}

// sendPublic posts (or edits) an in-channel response and starts following
// its job when it carries one. It returns the ts of the first message.
func (a *Adapter) sendPublic(ctx context.Context, o *origin, resp commands.Response) string {
	blocks := renderBlocks(resp.Blocks)
	text := fallbackText(resp.Blocks)
	thread := o.threadTS
	if resp.Thread {
		thread = o.cardThread()
	}
	if o.responseURL != "" && (o.replaceAck || (resp.Replace && o.ephemeralMsg)) {
		// Remove the "working…" note or the ephemeral prompt this answers.
		msg := &slack.WebhookMessage{DeleteOriginal: true}
		if err := a.out.do(ctx, "response_url", func(ctx context.Context) error {
			return slack.PostWebhookCustomHTTPContext(ctx, o.responseURL, a.hc, msg)
		}); err != nil {
			a.log.WarnContext(ctx, "removing the original message", "err", err)
		}
	}
	var ts string
	for i, m := range splitMessages(blocks) {
		if i == 0 && resp.Replace && !resp.Thread && o.messageTS != "" && !o.ephemeralMsg {
			if err := a.update(ctx, o.channel, o.messageTS, text, m); err == nil {
				ts = o.messageTS
				continue
			}
		}
		posted, err := a.post(ctx, o.channel, thread, text, m)
		if err != nil {
			a.log.ErrorContext(ctx, "message not posted", "channel", o.channel, "err", err)
			return ts
		}
		if ts == "" {
			ts = posted
		}
	}
	for _, f := range resp.Files {
		if err := a.upload(ctx, o.channel, thread, f); err != nil {
			a.log.WarnContext(ctx, "file upload failed; posting it as messages", "file", f.Name, "err", err)
			for _, m := range splitMessages(fileBlocks(f)) {
				if _, err := a.post(ctx, o.channel, thread, f.Name, m); err != nil {
					a.log.ErrorContext(ctx, "file not delivered", "file", f.Name, "err", err)
					break
				}
			}
		}
	}
	if resp.Watch != nil && ts != "" {
		card := ts
		if resp.Thread && o.messageTS != "" && !o.ephemeralMsg {
			card = o.messageTS // a retry: keep editing the card the button was on
		}
		root := thread
		if root == "" {
			root = card
		}
		shown := ""
		if card == ts && len(blocks) <= maxMessageBlocks {
			_, _, shown = cardContent(resp.Blocks)
		}
		a.follow(ctx, o.team, o.channel, card, root, resp.Watch.ContainerID, shown)
	}
	return ts
}

func (a *Adapter) post(ctx context.Context, channel, thread, text string, blocks []slack.Block) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	var ts string
	err := a.out.doIn(ctx, channel, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = a.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

func (a *Adapter) update(ctx context.Context, channel, ts, text string, blocks []slack.Block) error {
	return a.out.doIn(ctx, channel, "chat.update", func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// upload shares a file in a channel (files.getUploadURLExternal, the
// upload, files.completeUploadExternal).
func (a *Adapter) upload(ctx context.Context, channel, thread string, f commands.File) error {
	if len(f.Content) == 0 {
		return errors.New("empty file")
	}
	return a.out.do(ctx, "file upload", func(ctx context.Context) error {
		_, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Filename: f.Name, Title: f.Name, FileSize: len(f.Content), Reader: bytes.NewReader(f.Content),
			Channel: channel, ThreadTimestamp: thread,
		})
		return err
	})
}

// fileBlocks shows a file inline, whole, as code sections.
func fileBlocks(f commands.File) []slack.Block {
	lines := bytes.Count(f.Content, []byte("\n")) + 1
	head := slack.NewContextBlock("", mrkdwn(fmt.Sprintf("📎 %s (%d lines)", escapeMrkdwn(f.Name), lines)))
	return append([]slack.Block{head}, codeSections(strings.TrimRight(string(f.Content), "\n"))...)
}

// Modals.

// preopenModal opens a placeholder modal from the trigger at once, before
// the router does any lookup, since a trigger expires after 3 s. The real
// form (or the answer) replaces it with views.update.
func (a *Adapter) preopenModal(ctx context.Context, o *origin) {
	if o.triggerID == "" {
		return
	}
	view := noticeModal(renderBlocks([]commands.Block{commands.ContextBlock("Loading…")}))
	resp, err := a.api.OpenViewContext(ctx, o.triggerID, view)
	if err != nil {
		a.log.WarnContext(ctx, "opening the modal", "err", err)
		return
	}
	o.viewID = resp.View.ID
	o.triggerID = ""
}

func noticeModal(blocks []slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("lxcbot"), Close: plain("Close"), Blocks: slack.Blocks{BlockSet: blocks}}
}

// modalFor renders form as a modal for a request from o, with the options
// of dependent fields filled in for the parents' defaults.
func (a *Adapter) modalFor(ctx context.Context, req commands.Request, o *origin, form *commands.Form) (slack.ModalViewRequest, error) {
	values := map[string]string{}
	for _, f := range form.Fields {
		values[f.Name] = f.Default
	}
	for i := range form.Fields {
		f := &form.Fields[i]
		if f.DependsOn == "" || len(f.Options) > 0 || values[f.DependsOn] == "" {
			continue
		}
		opts, err := a.router.Options(ctx, req, form.ID, f.Name, values)
		if err != nil {
			a.log.WarnContext(ctx, "options of a dependent field", "field", f.Name, "err", err)
			continue
		}
		f.Options = opts
	}
	view, err := renderModal(form)
	if err != nil {
		return view, err
	}
	view.CallbackID = callbackID(form.ID, o.channel, o.threadTS)
	return view, nil
}

func (a *Adapter) openForm(ctx context.Context, o *origin, req commands.Request, form *commands.Form) error {
	view, err := a.modalFor(ctx, req, o, form)
	if err != nil {
		return err
	}
	if o.viewID != "" {
		viewID := o.viewID
		o.viewID = ""
		return a.out.do(ctx, "views.update", func(ctx context.Context) error {
			_, err := a.api.UpdateViewContext(ctx, view, "", "", viewID)
			return err
		})
	}
	if o.triggerID == "" {
		return errors.New("no trigger to open a modal with")
	}
	// One try: a trigger is valid for 3 s, and a retry would come too late.
	_, err = a.api.OpenViewContext(ctx, o.triggerID, view)
	if err != nil {
		return fmt.Errorf("views.open: %w", err)
	}
	return nil
}

// refreshModal answers a change of a parent select inside one of our
// modals: the fields that depend on it get fresh options from the router,
// and the view is updated in place (its hash guards against races).
func (a *Adapter) refreshModal(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) {
	formID, _, _, _ := parseCallbackID(cb.View.CallbackID)
	parent, _, _, ok := parseFieldBlockID(act.BlockID)
	if !ok {
		return
	}
	values := formValues(cb.View.State)
	values[parent] = actionValue(*act)
	req := commands.Request{Principal: principal(cb.User.ID, cb.User.Name), Workspace: cb.Team.ID, Platform: "slack",
		Groups: a.groupsOf(ctx, cb.User.ID), Kind: commands.KindFormSubmit, ReceivedAt: a.now()}
	changed := false
	blocks := append([]slack.Block(nil), cb.View.Blocks.BlockSet...)
	for i, b := range blocks {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		name, dep, rev, ok := parseFieldBlockID(in.BlockID)
		if !ok || dep != parent {
			continue
		}
		sel, ok := in.Element.(*slack.SelectBlockElement)
		if !ok {
			continue
		}
		opts, err := a.router.Options(ctx, req, formID, name, values)
		if err != nil {
			a.log.WarnContext(ctx, "options of a dependent field", "field", name, "err", err)
			continue
		}
		if len(opts) == 0 {
			opts = []commands.Option{{Label: "default", Value: ""}}
		}
		cp := *in
		nsel := *sel
		nsel.Options = renderOptions(opts)
		nsel.InitialOption = nil
		cp.Element = &nsel
		// A new block id resets the field's chosen value.
		cp.BlockID = fieldBlockID(commands.Field{Name: name, DependsOn: dep}, rev+1)
		blocks[i] = &cp
		changed = true
	}
	if !changed {
		return
	}
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: cb.View.Title, Submit: cb.View.Submit, Close: cb.View.Close,
		CallbackID: cb.View.CallbackID, PrivateMetadata: cb.View.PrivateMetadata, Blocks: slack.Blocks{BlockSet: blocks}}
	err := a.out.do(ctx, "views.update", func(ctx context.Context) error {
		_, err := a.api.UpdateViewContext(ctx, view, "", cb.View.Hash, cb.View.ID)
		return err
	})
	if err != nil {
		a.log.WarnContext(ctx, "refreshing the form", "err", err)
	}
}
