package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// target is a message the adapter may edit later: through the interaction
// token while it lives, then through the bot token.
type target struct {
	token     string
	at        time.Time
	channelID string
	messageID string
	original  bool // the token's @original
	ephemeral bool
}

var errTokenExpired = errors.New("the interaction token has expired and an ephemeral message cannot be edited otherwise")

// complete delivers the core's reply after the deferred acknowledgement.
func (a *Adapter) complete(ctx context.Context, rc *received, resp commands.Response) {
	ctx, cancel := context.WithTimeout(ctx, a.workTimeout)
	defer cancel()
	if len(resp.FormErrors) > 0 {
		resp = a.formErrorsReply(ctx, rc, resp)
	}
	if resp.Form != nil {
		resp = a.formButtonReply(ctx, rc, resp)
	}
	msgs, err := a.render(ctx, resp)
	if err != nil {
		ref := fmt.Sprintf("%x", a.clock.Now().UnixNano()&0xffffffff)
		a.log.ErrorContext(ctx, "rendering a reply", "ref", ref, "err", err)
		msgs = []outMessage{textMessage("❌ internal error (ref "+ref+"); tell an admin this reference", true)}
		resp = commands.Response{}
	}
	public := resp.Visibility == commands.InChannel
	flags := 0
	if !public {
		flags = flagEphemeral
	}
	it := rc.it
	src := it.Message
	srcEphemeral := src != nil && src.Flags&flagEphemeral != 0
	// thread is the public message whose thread a Thread reply goes to.
	replace := resp.Replace
	var thread *wireMessage
	if src != nil && !srcEphemeral {
		thread = &wireMessage{ID: src.ID, ChannelID: it.ChannelID}
	}
	if rc.asked != nil {
		// The press answered a confirm step. The step is spent: the reply
		// takes its place, and thread replies go to the message it asked
		// from, whose thread tells the job's story.
		replace, thread = true, nil
		if rc.asked.ID != "" && !rc.asked.Ephemeral {
			thread = &wireMessage{ID: rc.asked.ID, ChannelID: firstNonEmpty(rc.asked.ChannelID, it.ChannelID)}
		}
	}
	var tgt *target
	switch {
	case resp.Thread && thread != nil:
		for _, m := range msgs {
			if _, err := a.postThread(ctx, thread.ChannelID, thread.ID, "lxcbot job", m); err != nil {
				a.log.WarnContext(ctx, "posting into a job thread", "err", err)
			}
		}
		msgs = nil
		switch {
		case rc.asked != nil:
			// The card belongs to another interaction: edit it with the bot token.
			tgt = &target{channelID: thread.ChannelID, messageID: thread.ID}
			a.editOriginalOrWarn(ctx, rc, textMessage("✓ Done; see the job's thread.", true))
		default:
			tgt = &target{token: it.Token, at: rc.at, channelID: it.ChannelID, messageID: src.ID, original: rc.acked == respDeferredUpdate}
			if rc.acked == respDeferred {
				a.editOriginalOrWarn(ctx, rc, textMessage("Posted in the job's thread.", true))
			}
		}
	case rc.acked == respDeferredUpdate && replace && srcEphemeral == !public:
		sent, err := a.editOriginal(ctx, rc, msgs[0])
		if err == nil {
			tgt = &target{token: it.Token, at: rc.at, channelID: it.ChannelID, messageID: firstNonEmpty(sent.ID, src.ID), original: true, ephemeral: srcEphemeral}
		}
		msgs = msgs[1:]
	case rc.acked == respDeferredUpdate && replace && srcEphemeral && public:
		// An ephemeral prompt cannot become public: close it, post anew.
		a.editOriginalOrWarn(ctx, rc, textMessage("✓ Done; see the channel.", true))
		tgt = a.followupTarget(ctx, rc, msgs[0], flags)
		msgs = msgs[1:]
	case rc.acked == respDeferredUpdate:
		tgt = a.followupTarget(ctx, rc, msgs[0], flags)
		msgs = msgs[1:]
	case rc.flags == flags:
		msgs[0].Flags = flags
		sent, err := a.editOriginal(ctx, rc, msgs[0])
		if err == nil {
			tgt = &target{token: it.Token, at: rc.at, channelID: firstNonEmpty(sent.ChannelID, it.ChannelID), messageID: sent.ID, original: true, ephemeral: !public}
		}
		msgs = msgs[1:]
	case public:
		// Deferred as ephemeral because the core was slow, but the reply is
		// for everyone: say so privately and post it.
		a.editOriginalOrWarn(ctx, rc, textMessage("✓ Posted in the channel.", true))
		tgt = a.followupTarget(ctx, rc, msgs[0], flags)
		msgs = msgs[1:]
	default:
		// Deferred publicly but the reply is private: never show it publicly.
		a.deleteOriginal(ctx, rc)
		tgt = a.followupTarget(ctx, rc, msgs[0], flags)
		msgs = msgs[1:]
	}
	for _, m := range msgs {
		a.followupTarget(ctx, rc, m, flags)
	}
	for _, f := range resp.Followups {
		fm, err := a.render(ctx, f)
		if err != nil {
			a.log.WarnContext(ctx, "rendering a followup", "err", err)
			continue
		}
		ff := flagEphemeral
		if f.Visibility == commands.InChannel {
			ff = 0
		}
		for _, m := range fm {
			a.followupTarget(ctx, rc, m, ff)
		}
	}
	if resp.Watch != nil && tgt != nil && !tgt.ephemeral && tgt.messageID != "" {
		a.recordCard(ctx, it.GuildID, *tgt, resp.Watch.ContainerID)
		if !a.startWatch(*tgt, resp.Watch.ContainerID) {
			a.log.WarnContext(ctx, "too many jobs followed at once; this one's card will not update", "container", resp.Watch.ContainerID)
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// editOriginal edits the interaction's @original message. A deferred
// response may still be on its way to Discord when the reply is ready, so
// "unknown message" is retried briefly.
func (a *Adapter) editOriginal(ctx context.Context, rc *received, m outMessage) (sentMessage, error) {
	path, route := a.webhookOriginal(rc.it.Token)
	var sent sentMessage
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = a.rest.do(ctx, call{method: http.MethodPatch, path: path, route: route, body: m, files: m.files, out: &sent})
		if err == nil || !isStatus(err, http.StatusNotFound) {
			break
		}
		if !sleep(ctx, time.Duration(100<<attempt)*time.Millisecond) {
			break
		}
	}
	if err != nil {
		a.log.WarnContext(ctx, "editing an interaction reply", "interaction", rc.it.ID, "err", err)
	}
	return sent, err
}

func (a *Adapter) editOriginalOrWarn(ctx context.Context, rc *received, m outMessage) {
	_, _ = a.editOriginal(ctx, rc, m)
}

func (a *Adapter) deleteOriginal(ctx context.Context, rc *received) {
	path, route := a.webhookOriginal(rc.it.Token)
	if err := a.rest.do(ctx, call{method: http.MethodDelete, path: path, route: route}); err != nil {
		a.log.WarnContext(ctx, "deleting a deferred reply", "interaction", rc.it.ID, "err", err)
	}
}

// followupTarget posts a followup message and returns it as a target.
func (a *Adapter) followupTarget(ctx context.Context, rc *received, m outMessage, flags int) *target {
	m.Flags = flags
	path, route := a.webhookFollowup(rc.it.Token)
	var sent sentMessage
	if err := a.rest.do(ctx, call{method: http.MethodPost, path: path, route: route, body: m, files: m.files, out: &sent}); err != nil {
		a.log.WarnContext(ctx, "posting a followup", "interaction", rc.it.ID, "err", err)
		return nil
	}
	return &target{token: rc.it.Token, at: rc.at, channelID: firstNonEmpty(sent.ChannelID, rc.it.ChannelID), messageID: sent.ID, ephemeral: flags&flagEphemeral != 0}
}

// editTarget edits a message: through the interaction token while it is
// younger than 15 minutes, then through the bot token.
func (a *Adapter) editTarget(ctx context.Context, t *target, m outMessage) error {
	m.Flags = 0
	if t.token != "" && a.clock.Now().Sub(t.at) < tokenLifetime-tokenMargin {
		path, route := a.webhookOriginal(t.token)
		if !t.original {
			path = strings.TrimSuffix(path, "@original") + t.messageID
			route = strings.TrimSuffix(route, "@original") + "{message}"
		}
		err := a.rest.do(ctx, call{method: http.MethodPatch, path: path, route: route, body: m, files: m.files})
		if err == nil || !(isStatus(err, http.StatusUnauthorized) || isCode(err, 50027) || isCode(err, 10015)) {
			return err
		}
		// The token died early; fall through to the bot token.
	}
	if t.ephemeral {
		return errTokenExpired
	}
	path, route := channelMessage(t.channelID, t.messageID)
	return a.rest.do(ctx, call{method: http.MethodPatch, path: path, route: route, bot: true, body: m, files: m.files})
}

// postChannel posts a message with the bot token.
func (a *Adapter) postChannel(ctx context.Context, channelID string, m outMessage) (sentMessage, error) {
	m.Flags = 0 // channel messages cannot be ephemeral
	path, route := channelMessages(channelID)
	var sent sentMessage
	err := a.rest.do(ctx, call{method: http.MethodPost, path: path, route: route, bot: true, body: m, files: m.files, out: &sent})
	return sent, err
}

// ensureThread starts the thread of a message unless it exists. A thread
// started from a message has the message's id.
func (a *Adapter) ensureThread(ctx context.Context, channelID, messageID, name string) (string, error) {
	path, route := messageThread(channelID, messageID)
	body := map[string]any{"name": clipRunes(name, 100), "auto_archive_duration": 1440}
	var out struct {
		ID string `json:"id"`
	}
	err := a.rest.do(ctx, call{method: http.MethodPost, path: path, route: route, bot: true, body: body, out: &out})
	if isCode(err, 160004) { // already created
		return messageID, nil
	}
	if err != nil {
		return "", fmt.Errorf("starting the thread of message %s: %w", messageID, err)
	}
	return firstNonEmpty(out.ID, messageID), nil
}

// postThread posts m into the thread of a message, starting it if needed.
func (a *Adapter) postThread(ctx context.Context, channelID, messageID, name string, m outMessage) (sentMessage, error) {
	thread, err := a.ensureThread(ctx, channelID, messageID, name)
	if err != nil {
		return sentMessage{}, err
	}
	return a.postChannel(ctx, thread, m)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// formErrorsReply turns field errors into a private message with a button
// that reopens the form with what was typed: a modal cannot stay open
// after it is submitted.
func (a *Adapter) formErrorsReply(ctx context.Context, rc *received, resp commands.Response) commands.Response {
	out := commands.Response{Visibility: commands.Ephemeral, Blocks: resp.Blocks}
	names := make([]string, 0, len(resp.FormErrors))
	for n := range resp.FormErrors {
		names = append(names, n)
	}
	sort.Strings(names)
	var lines []string
	var sess *formSession
	if s, ok := rc.session(); ok {
		sess = s
	}
	for _, n := range names {
		label := n
		if sess != nil {
			if f := sess.Form.FormField(n); f != nil {
				label = f.Label
			}
		}
		lines = append(lines, fmt.Sprintf("• *%s*: %s", label, resp.FormErrors[n]))
	}
	out.Blocks = append(out.Blocks, commands.TextBlock(strings.Join(lines, "\n")))
	if sess != nil {
		key, err := a.saveSession(ctx, sess)
		if err == nil {
			out.Blocks = append(out.Blocks, commands.ButtonBlocks(commands.Button{Label: "Fix and submit again", ActionID: formGoAction, Value: key, Style: commands.StylePrimary})...)
		}
	}
	return out
}

// formButtonReply offers a form that could not be opened directly (the
// core answered after the deferral, or in reply to a modal submit).
func (a *Adapter) formButtonReply(ctx context.Context, rc *received, resp commands.Response) commands.Response {
	sess := newSession(resp.Form, rc)
	key, err := a.saveSession(ctx, sess)
	if err != nil {
		a.log.WarnContext(ctx, "saving a form", "err", err)
		return commands.Response{Blocks: []commands.Block{commands.TextBlock("⚠️ the form could not be opened; run the command again")}}
	}
	blocks := append([]commands.Block{}, resp.Blocks...)
	blocks = append(blocks, commands.ButtonBlocks(commands.Button{Label: "Open the form", ActionID: formGoAction, Value: key, Style: commands.StylePrimary})...)
	return commands.Response{Visibility: commands.Ephemeral, Blocks: blocks}
}
