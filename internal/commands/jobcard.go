package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// jobState is what a sequence of progress events adds up to.
type jobState struct {
	percent      int
	phase        provision.Phase
	script       string
	scriptI      int
	scriptN      int
	terminal     provision.ProgressType
	failMsg      string
	failLines    []string
	warnings     int
	ip           string
	vmid         int
	node         string
	first, final time.Time
}

func foldEvents(evs []provision.ProgressEvent) jobState {
	var s jobState
	for i, e := range evs {
		if i == 0 {
			s.first = e.At
		}
		s.final = e.At
		s.percent = max(s.percent, e.Percent)
		if e.Phase != "" {
			s.phase = e.Phase
		}
		if e.IP != "" {
			s.ip = e.IP
		}
		if e.VMID != 0 {
			s.vmid = e.VMID
		}
		if e.Node != "" {
			s.node = e.Node
		}
		switch e.Type {
		case provision.ProgressScriptStarted, provision.ProgressScriptFinished:
			s.script, s.scriptI, s.scriptN = e.Script, e.ScriptIndex, e.ScriptTotal
		case provision.ProgressPhaseStarted:
			s.script, s.scriptI, s.scriptN = "", 0, 0
		case provision.ProgressWarning:
			s.warnings++
		case provision.ProgressFailed:
			s.failMsg, s.failLines = e.Message, e.Lines
		case provision.ProgressReady:
			s.percent = 100
		}
		if e.Type.Terminal() {
			s.terminal = e.Type
		} else if e.Type == provision.ProgressPhaseStarted {
			s.terminal = "" // a retried attempt runs again
		}
	}
	return s
}

// JobCard renders a creation job as one message that is edited in place: a
// progress bar, the current phase and script while running (with Cancel),
// the failure with Retry / Delete / Keep for debugging, or a summary with
// services when ready. c is the container as recorded; evs are the job's
// progress events so far, in order; svcs are shown once the job is ready.
func JobCard(c *provision.Container, evs []provision.ProgressEvent, svcs []provision.Service) Response {
	s := foldEvents(evs)
	if s.terminal == "" && len(evs) == 0 {
		switch c.State {
		case provision.StateReady:
			s.terminal, s.percent = provision.ProgressReady, 100
		case provision.StateFailed:
			s.terminal, s.phase, s.failMsg = provision.ProgressFailed, c.FailedPhase, c.LastError
		case provision.StateCancelled:
			s.terminal = provision.ProgressCancelled
		}
	}
	vmid, node, ip := c.VMID, c.NodeName, c.IP
	if s.vmid != 0 {
		vmid = s.vmid
	}
	if s.node != "" {
		node = s.node
	}
	if s.ip != "" {
		ip = s.ip
	}
	var title string
	switch s.terminal {
	case provision.ProgressReady:
		title = fmt.Sprintf("🟢 %s is ready", c.Hostname)
	case provision.ProgressFailed:
		title = fmt.Sprintf("🔴 Creating %s failed", c.Hostname)
	case provision.ProgressCancelled:
		title = fmt.Sprintf("⚪ Creation of %s cancelled", c.Hostname)
	default:
		title = fmt.Sprintf("🟡 Creating %s", c.Hostname)
	}
	blocks := []Block{
		HeaderBlock(title),
		FieldsBlock(
			Pair{"Template", orNone(c.TemplateName)},
			Pair{"Node / VMID", fmt.Sprintf("%s / %s", orNone(node), vmidText(vmid))},
			Pair{"IP", orNone(ip)},
			Pair{"Requested by", ownerName(c.Owner)},
		),
	}
	id := c.ID
	switch s.terminal {
	case "":
		label := "waiting for a worker"
		if s.phase != "" {
			label = "phase: " + string(s.phase)
		}
		if s.scriptN > 0 {
			label += fmt.Sprintf(" · script %d/%d %s", s.scriptI, s.scriptN, s.script)
		}
		blocks = append(blocks, ProgressBlock(s.percent, label))
		if s.warnings > 0 {
			blocks = append(blocks, ContextBlock(fmt.Sprintf("⚠ %s so far; see the thread", plural(s.warnings, "warning"))))
		}
		blocks = append(blocks, ButtonBlocks(Button{Label: "Cancel", ActionID: ActJobCancel, Value: id, Style: StyleDanger,
			Confirm: &Confirm{Title: "Cancel creation?", Text: "The job stops and removes what it created on Proxmox.", ConfirmLabel: "Cancel creation", DenyLabel: "Let it run"}})...)
	case provision.ProgressFailed:
		blocks = append(blocks, ProgressBlock(s.percent, "failed at "+string(s.phase)))
		blocks = append(blocks, TextBlocks(fmt.Sprintf("*Failed at %s:* %s", s.phase, orNone(s.failMsg)))...)
		if len(s.failLines) > 0 {
			blocks = append(blocks, CodeBlock(tailRunes(strings.Join(s.failLines, "\n"), MaxCodeText)))
			blocks = append(blocks, ContextBlock("full output in the thread"))
		}
		blocks = append(blocks, ButtonBlocks(
			Button{Label: "Retry", ActionID: ActJobRetry, Value: id, Style: StylePrimary},
			Button{Label: "Delete", ActionID: ActJobDelete, Value: id, Style: StyleDanger},
			Button{Label: "Keep for debugging", ActionID: ActJobKeep, Value: id},
		)...)
	case provision.ProgressReady:
		summary := "Ready"
		if !s.first.IsZero() && s.final.After(s.first) {
			summary += " in " + s.final.Sub(s.first).Round(time.Second).String()
		}
		if s.warnings > 0 {
			summary += fmt.Sprintf(" with %s (see the thread)", plural(s.warnings, "warning"))
		}
		blocks = append(blocks, ProgressBlock(100, summary))
		if apps := appServices(svcs); len(apps) > 0 {
			var lines []string
			for _, sv := range apps {
				lines = append(lines, serviceLine(sv))
			}
			blocks = append(blocks, TextBlocks("*Services*\n"+strings.Join(lines, "\n"))...)
		}
		blocks = append(blocks, ButtonBlocks(
			Button{Label: "Show", ActionID: ActShow, Value: id},
			Button{Label: "Services", ActionID: ActServices, Value: id},
			Button{Label: "Credentials", ActionID: ActCreds, Value: id},
		)...)
	case provision.ProgressCancelled:
		blocks = append(blocks, ContextBlock("Cancelled; what was created on Proxmox has been removed."))
	}
	return Response{Visibility: InChannel, Replace: true, Blocks: blocks}
}

// tailRunes keeps the last n runes: the card shows the end of the failing
// output, and ThreadEntry carries all of it.
func tailRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// ThreadEntry renders one progress event as a thread reply, or nil for
// events that only move the card (starts, log lines).
func ThreadEntry(ev provision.ProgressEvent) *Response {
	var resp Response
	switch ev.Type {
	case provision.ProgressPhaseFinished:
		text := fmt.Sprintf("✓ %s finished", ev.Phase)
		if ev.Duration > 0 {
			text += " in " + ev.Duration.Round(100*time.Millisecond).String()
		}
		if ev.Message != "" {
			text += ": " + ev.Message
		}
		resp.Blocks = TextBlocks(text)
	case provision.ProgressScriptFinished:
		resp.Blocks = TextBlocks(fmt.Sprintf("✓ script %d/%d %s finished", ev.ScriptIndex, ev.ScriptTotal, ev.Script))
	case provision.ProgressWarning:
		resp.Blocks = TextBlocks(fmt.Sprintf("⚠ %s: %s", orNone(string(ev.Phase)), ev.Message))
	case provision.ProgressFailed:
		resp.Blocks = TextBlocks(fmt.Sprintf("✗ %s failed: %s", orNone(string(ev.Phase)), ev.Message))
		if len(ev.Lines) > 0 {
			codeOrFile(&resp, fmt.Sprintf("%s-%s-output.txt", orNone(ev.Hostname), ev.Phase), strings.Join(ev.Lines, "\n"))
		}
	case provision.ProgressReady:
		text := "🟢 ready"
		if ev.IP != "" {
			text += " at " + ev.IP
		}
		resp.Blocks = TextBlocks(text)
	case provision.ProgressCancelled:
		resp.Blocks = TextBlocks("⚪ cancelled")
	default:
		return nil
	}
	resp.Visibility = InChannel
	resp.Thread = true
	return &resp
}

// JobUpdate is one step of a watched job: the card to show now, the thread
// entry the event adds (nil if none), and the event itself for adapters that
// print live lines (the console).
type JobUpdate struct {
	Event  provision.ProgressEvent
	Card   Response
	Thread *Response
	Done   bool // the job attempt ended; the channel closes after this
}

// Watch follows a creation job, turning its progress events into updates.
// The channel closes when the job attempt ends or ctx is cancelled.
// Adapters coalesce Card edits to their platform's rate.
func (r *Router) Watch(ctx context.Context, containerID string) (<-chan JobUpdate, error) {
	ct, err := r.b.Container(ctx, containerID)
	if err != nil {
		return nil, err
	}
	evs, err := r.b.Subscribe(ctx, containerID, "")
	if err != nil {
		return nil, err
	}
	out := make(chan JobUpdate)
	go func() {
		defer close(out)
		var seen []provision.ProgressEvent
		for ev := range evs {
			seen = append(seen, ev)
			u := JobUpdate{Event: ev, Thread: ThreadEntry(ev), Done: ev.Type.Terminal()}
			card := ct
			var svcs []provision.Service
			if u.Done {
				if fresh, err := r.b.Container(ctx, containerID); err == nil {
					card = fresh
				}
				if ev.Type == provision.ProgressReady {
					if svcs, err = r.b.Services(ctx, containerID, false); err != nil {
						r.log.WarnContext(ctx, "services for the job card", "container", containerID, "err", err)
					}
				}
			}
			u.Card = JobCard(card, seen, svcs)
			select {
			case out <- u:
			case <-ctx.Done():
				return
			}
			if u.Done {
				return
			}
		}
	}()
	return out, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
