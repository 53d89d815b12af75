package slack

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// origin is where a request came from and how it can be answered.
type origin struct {
	team, channel, user string
	threadTS            string // the thread the request was made in, if any
	messageTS           string // the message a button was on
	ephemeralMsg        bool   // that message is ephemeral (cannot be edited by ts)
	responseURL         string
	triggerID           string
	viewID              string // a modal opened for this request
	replaceAck          bool   // the ack posted a "working…" message to replace
	command             bool   // a slash command: answers go through response_url
}

// cardThread is the thread root for replies about the message a button
// was on.
func (o *origin) cardThread() string {
	if o.threadTS != "" {
		return o.threadTS
	}
	return o.messageTS
}

// Acknowledgement bodies.
type ackMessage struct {
	ResponseType string       `json:"response_type,omitempty"`
	Text         string       `json:"text,omitempty"`
	Blocks       slack.Blocks `json:"blocks,omitzero"`
}

func ephemeralAck(text string) *ackMessage {
	return &ackMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

const (
	textWorking = "Working on it…"
	textBusy    = ":warning: lxcbot is busy right now; try again in a minute."
	textUnavail = ":warning: temporarily unavailable, try again in a minute."
)

// pending hands a response from a worker to the acknowledgement when it is
// ready in time and simple enough to travel in it; otherwise the worker
// delivers it.
type pending struct {
	mu     sync.Mutex
	closed bool
	resp   *commands.Response
	ready  chan struct{}
}

func newPending() *pending { return &pending{ready: make(chan struct{})} }

// offer is called by the worker; true means the ack carries resp.
func (p *pending) offer(resp commands.Response, fits func(commands.Response) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.closed = true
	if fits(resp) {
		p.resp = &resp
	}
	close(p.ready)
	return p.resp != nil
}

// take is called by the ack once it stops waiting.
func (p *pending) take() *commands.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.resp
}

// fitsAck says whether resp can be answered in the acknowledgement itself.
func fitsAck(resp commands.Response) bool {
	return resp.Visibility == commands.Ephemeral && resp.Form == nil && len(resp.Files) == 0 && resp.Watch == nil &&
		len(resp.Followups) == 0 && resp.FormErrors == nil && len(renderBlocks(resp.Blocks)) <= maxMessageBlocks
}

// command handles a slash command and returns the acknowledgement body
// (nil: an empty 200). It returns within a small fraction of Slack's 3 s.
func (a *Adapter) command(ctx context.Context, sc slack.SlashCommand) any {
	start, outcome := time.Now(), "ok"
	defer func() { a.metrics.ObserveAck("slack", "command", outcome, start) }()
	// Scoped only when something is logged: With copies the handler's
	// attributes, which the acknowledgement should not pay for on every request.
	log := func() logger { return a.log.With("kind", "command", "team", sc.TeamID, "user", sc.UserID) }
	req := commands.Request{
		Principal:  principal(sc.UserID, sc.UserName),
		Workspace:  sc.TeamID,
		Channel:    sc.ChannelID,
		Platform:   "slack",
		Kind:       commands.KindCommand,
		Text:       strings.TrimSpace(sc.Text),
		DeliveryID: "cmd:" + sc.TeamID + ":" + sc.TriggerID,
		ReceivedAt: a.now(),
	}
	o := &origin{team: sc.TeamID, channel: sc.ChannelID, user: sc.UserID, responseURL: sc.ResponseURL, triggerID: sc.TriggerID, command: true}
	form := a.opensForm(req)
	p := newPending()
	ok, err := a.claim(ctx, req.DeliveryID)
	switch {
	case err != nil:
		outcome = "error"
		log().ErrorContext(ctx, "slash command not handled", "err", err)
		return ephemeralAck(textUnavail)
	case !ok:
		outcome = "duplicate"
		log().InfoContext(ctx, "duplicate slash command dropped", "trigger", sc.TriggerID)
		return nil
	}
	err = a.goWork("command", func(ctx context.Context) {
		if form {
			a.preopenModal(ctx, o)
		}
		req.Groups = a.groupsOf(ctx, sc.UserID)
		resp := a.router.Handle(ctx, req)
		if !form {
			if p.offer(resp, fitsAck) {
				return
			}
			o.replaceAck = true // the ack said "working…"
		}
		a.deliver(ctx, o, req, resp)
	})
	if err != nil {
		outcome = "rejected"
		log().WarnContext(ctx, "slash command refused", "err", err)
		return ephemeralAck(textBusy)
	}
	if form {
		return nil
	}
	t := time.NewTimer(a.cfg.ImmediateWait)
	defer t.Stop()
	select {
	case <-p.ready:
	case <-t.C:
	case <-ctx.Done():
	}
	if resp := p.take(); resp != nil {
		return &ackMessage{ResponseType: slack.ResponseTypeEphemeral, Text: fallbackText(resp.Blocks),
			Blocks: slack.Blocks{BlockSet: renderBlocks(resp.Blocks)}}
	}
	return ephemeralAck(textWorking)
}

// opensForm reports whether req will most likely answer with a form, so
// the modal can be opened from the trigger before any slow lookup.
func (a *Adapter) opensForm(req commands.Request) bool {
	switch req.Kind {
	case commands.KindAction:
		switch req.Action.ID {
		case commands.ActDelete, commands.ActJobDelete, commands.ActCreateStart:
			return true
		}
	case commands.KindCommand:
		inv, err := a.router.Table().Parse(req.Text)
		if err != nil || inv.Command == nil {
			return false
		}
		switch inv.Command.Name {
		case "create":
			return inv.Args["template"] == "" || inv.Args["hostname"] == ""
		case "delete":
			return true
		}
	}
	return false
}

// interaction handles block actions, view submissions and shortcuts and
// returns the acknowledgement body.
func (a *Adapter) interaction(ctx context.Context, cb slack.InteractionCallback) any {
	log := a.log.With("kind", string(cb.Type), "team", cb.Team.ID, "user", cb.User.ID)
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return a.blockAction(ctx, log, cb)
	case slack.InteractionTypeViewSubmission:
		return a.viewSubmission(ctx, log, cb)
	case slack.InteractionTypeShortcut, slack.InteractionTypeMessageAction:
		return a.shortcut(ctx, log, cb)
	}
	return nil
}

// shortcut maps the global "create a container" shortcut onto /lxc create.
func (a *Adapter) shortcut(ctx context.Context, _ logger, cb slack.InteractionCallback) any {
	return a.command(ctx, slack.SlashCommand{TeamID: cb.Team.ID, UserID: cb.User.ID, UserName: cb.User.Name,
		ChannelID: cb.Channel.ID, Text: "create", TriggerID: cb.TriggerID, ResponseURL: cb.ResponseURL})
}

func (a *Adapter) blockAction(ctx context.Context, log logger, cb slack.InteractionCallback) any {
	start, outcome := time.Now(), "ok"
	defer func() { a.metrics.ObserveAck("slack", "action", outcome, start) }()
	if len(cb.ActionCallback.BlockActions) == 0 {
		return nil
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID == "link" || act.ActionID == "" {
		return nil // a link button: Slack opens the URL
	}
	key := "act:" + cb.Team.ID + ":" + act.ActionTs + ":" + act.ActionID + ":" + cb.User.ID
	if ok, err := a.claim(ctx, key); err != nil || !ok {
		outcome = "duplicate"
		if err != nil {
			outcome = "error"
			log.ErrorContext(ctx, "button not handled", "err", err)
		}
		return nil
	}
	// A select in one of our modals changed: refresh the fields that depend
	// on it.
	if cb.View.ID != "" && strings.HasPrefix(cb.View.CallbackID, formCallbackPrefix) {
		if err := a.goWork("form options", func(ctx context.Context) { a.refreshModal(ctx, cb, act) }); err != nil {
			outcome = "rejected"
			log.WarnContext(ctx, "form refresh refused", "err", err)
		}
		return nil
	}
	value := act.Value
	if value == "" {
		value = optionValue(act.SelectedOption.Value)
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if channel == "" && cb.View.Type == slack.VTHomeTab {
		channel = cb.View.PrivateMetadata // the app's DM channel, kept by publishHome
	}
	thread := cb.Container.ThreadTs
	if thread == "" {
		thread = cb.Message.ThreadTimestamp
	}
	msgTS := cb.Container.MessageTs
	if msgTS == "" {
		msgTS = cb.Message.Timestamp
	}
	req := commands.Request{
		Principal:  principal(cb.User.ID, cb.User.Name),
		Workspace:  cb.Team.ID,
		Channel:    channel,
		Thread:     thread,
		Platform:   "slack",
		Kind:       commands.KindAction,
		Action:     commands.ActionPayload{ID: parseActionID(act.ActionID), Value: value},
		DeliveryID: key,
		ReceivedAt: a.now(),
	}
	o := &origin{team: cb.Team.ID, channel: channel, user: cb.User.ID, threadTS: thread, messageTS: msgTS,
		ephemeralMsg: cb.Container.IsEphemeral, responseURL: cb.ResponseURL, triggerID: cb.TriggerID}
	if cb.View.Type == slack.VTHomeTab {
		o.messageTS = ""
	}
	form := a.opensForm(req)
	err := a.goWork("button", func(ctx context.Context) {
		if form {
			a.preopenModal(ctx, o)
		}
		req.Groups = a.groupsOf(ctx, cb.User.ID)
		a.deliver(ctx, o, req, a.router.Handle(ctx, req))
	})
	if err != nil {
		outcome = "rejected"
		log.WarnContext(ctx, "button refused", "err", err)
		a.goAnyway(func(ctx context.Context) { a.sendEphemeralText(ctx, o, textBusy) })
	}
	return nil
}

// goAnyway runs a tiny outbound call outside the worker bound (used to tell
// a user the workers are busy).
func (a *Adapter) goAnyway(fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.recoverPanic("notice")
		fn(a.ctx)
	}()
}

// viewSubmission hands a submitted modal to the router and waits briefly
// for its verdict: validation errors go back in the acknowledgement, which
// keeps the modal open; anything else closes the modal and is delivered to
// the channel the form was opened from.
func (a *Adapter) viewSubmission(ctx context.Context, log logger, cb slack.InteractionCallback) any {
	start, outcome := time.Now(), "ok"
	defer func() { a.metrics.ObserveAck("slack", "form", outcome, start) }()
	formID, channel, thread, ok := parseCallbackID(cb.View.CallbackID)
	if !ok {
		outcome = "rejected"
		return nil
	}
	key := "view:" + cb.View.ID + ":" + cb.View.Hash
	if ok, err := a.claim(ctx, key); err != nil || !ok {
		if err != nil {
			outcome = "error"
			log.ErrorContext(ctx, "form not handled", "err", err)
			return slack.NewErrorsViewSubmissionResponse(map[string]string{firstInputBlock(cb.View): "temporarily unavailable, try again in a minute"})
		}
		outcome = "duplicate"
		return nil
	}
	req := commands.Request{
		Principal:  principal(cb.User.ID, cb.User.Name),
		Workspace:  cb.Team.ID,
		Channel:    channel,
		Thread:     thread,
		Platform:   "slack",
		Kind:       commands.KindFormSubmit,
		Form:       commands.FormSubmission{FormID: formID, Values: formValues(cb.View.State), State: cb.View.PrivateMetadata},
		DeliveryID: key,
		ReceivedAt: a.now(),
	}
	o := &origin{team: cb.Team.ID, channel: channel, user: cb.User.ID, threadTS: thread, triggerID: cb.TriggerID}
	p := newPending()
	fits := func(r commands.Response) bool { return r.FormErrors != nil || r.Form != nil }
	err := a.goWork("form", func(ctx context.Context) {
		req.Groups = a.groupsOf(ctx, cb.User.ID)
		resp := a.router.Handle(ctx, req)
		if p.offer(resp, fits) {
			return
		}
		if resp.FormErrors != nil {
			// Too late to keep the modal open: say what was wrong.
			resp.Blocks = append(resp.Blocks, commands.TextBlock(errorsText(resp.FormErrors)))
			resp.FormErrors = nil
		}
		a.deliver(ctx, o, req, resp)
	})
	if err != nil {
		outcome = "rejected"
		log.WarnContext(ctx, "form refused", "err", err)
		return slack.NewErrorsViewSubmissionResponse(map[string]string{firstInputBlock(cb.View): "lxcbot is busy; submit again in a minute"})
	}
	t := time.NewTimer(a.cfg.SubmitWait)
	defer t.Stop()
	select {
	case <-p.ready:
	case <-t.C:
	case <-ctx.Done():
	}
	resp := p.take()
	switch {
	case resp == nil:
		return nil
	case resp.FormErrors != nil:
		return slack.NewErrorsViewSubmissionResponse(formErrors(cb.View, resp.FormErrors))
	default:
		view, err := a.modalFor(ctx, req, o, resp.Form)
		if err != nil {
			log.ErrorContext(ctx, "rendering the next form", "err", err)
			return nil
		}
		return slack.NewUpdateViewSubmissionResponse(&view)
	}
}

func errorsText(errs map[string]string) string {
	var lines []string
	for field, msg := range errs {
		lines = append(lines, "• *"+field+"*: "+msg)
	}
	slices.Sort(lines)
	return ":warning: The form was not accepted:\n" + strings.Join(lines, "\n")
}

func firstInputBlock(v slack.View) string {
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			return in.BlockID
		}
	}
	return "f:unknown"
}

// callbackID names a form and where it was opened: lxc:<form>:<channel>:<thread>.
// The form's own state travels in private_metadata.
func callbackID(formID, channel, thread string) string {
	return formCallbackPrefix + formID + ":" + channel + ":" + thread
}

func parseCallbackID(id string) (formID, channel, thread string, ok bool) {
	rest, found := strings.CutPrefix(id, formCallbackPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2], parts[0] != ""
}

var mentionRE = regexp.MustCompile(`^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*`)

// event handles one Events API event after its envelope was acknowledged.
func (a *Adapter) event(ctx context.Context, ev slackevents.EventsAPIEvent, eventID string, retry string) {
	start, outcome := time.Now(), "ok"
	defer func() { a.metrics.ObserveAck("slack", "event", outcome, start) }()
	log := a.log.With("kind", "event", "team", ev.TeamID, "event", ev.InnerEvent.Type)
	if eventID != "" {
		ok, err := a.claim(ctx, "evt:"+eventID)
		if err != nil {
			outcome = "error"
			log.ErrorContext(ctx, "event not handled", "err", err)
			return
		}
		if !ok {
			outcome = "duplicate"
			log.InfoContext(ctx, "duplicate event dropped", "event_id", eventID, "retry", retry)
			return
		}
	}
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if inner.Tab != "home" {
			return
		}
		if err := a.goWork("app home", func(ctx context.Context) { a.publishHome(ctx, inner.User, inner.Channel) }); err != nil {
			outcome = "rejected"
			log.WarnContext(ctx, "app home refused", "err", err)
		}
	case *slackevents.AppMentionEvent:
		if inner.BotID != "" {
			return
		}
		// Distinct event ids for one message have been seen: dedupe by
		// channel and ts too.
		if ok, err := a.claim(ctx, "msg:"+inner.Channel+":"+inner.TimeStamp); err != nil || !ok {
			outcome = "duplicate"
			if err != nil {
				outcome = "error"
			}
			return
		}
		text := mentionRE.ReplaceAllString(inner.Text, "")
		text = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(text), "/"), "lxc"))
		thread := inner.ThreadTimeStamp
		if thread == "" {
			thread = inner.TimeStamp
		}
		req := commands.Request{
			Principal:  principal(inner.User, ""),
			Workspace:  ev.TeamID,
			Channel:    inner.Channel,
			Thread:     thread,
			Platform:   "slack",
			Kind:       commands.KindCommand,
			Text:       text,
			DeliveryID: "msg:" + inner.Channel + ":" + inner.TimeStamp,
			ReceivedAt: a.now(),
		}
		o := &origin{team: ev.TeamID, channel: inner.Channel, user: inner.User, threadTS: thread}
		if err := a.goWork("mention", func(ctx context.Context) {
			req.Groups = a.groupsOf(ctx, inner.User)
			a.deliver(ctx, o, req, a.router.Handle(ctx, req))
		}); err != nil {
			outcome = "rejected"
			log.WarnContext(ctx, "mention refused", "err", err)
		}
	}
}

// logger is the part of *slog.Logger the handlers use.
type logger interface {
	ErrorContext(context.Context, string, ...any)
	WarnContext(context.Context, string, ...any)
	InfoContext(context.Context, string, ...any)
}
