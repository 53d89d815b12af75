package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func ctArg() Arg { return Arg{Name: "ct", Required: true, Help: "hostname or VMID"} }

func (r *Router) showCommand() *Command {
	return &Command{
		Name:    "show",
		Args:    []Arg{ctArg()},
		Summary: "one container: live state, resources, services and actions",
		Example: "show web1",
		Role:    provision.RoleViewer,
		Target:  "ct",
		run:     r.runShow,
	}
}

func (r *Router) runShow(ctx context.Context, c *call) (*Response, error) {
	var (
		st   *LiveStatus
		svcs []provision.Service
	)
	if c.ct.State == provision.StateReady {
		var err error
		st, err = r.b.Status(ctx, c.ct.ID)
		if err != nil {
			r.log.WarnContext(ctx, "live status for show", "container", c.ct.ID, "err", err)
			st = &LiveStatus{Status: "unknown (node not answering)"}
		}
		svcs, err = r.b.Services(ctx, c.ct.ID, false)
		if err != nil {
			r.log.WarnContext(ctx, "services for show", "container", c.ct.ID, "err", err)
		}
	}
	resp := ContainerCard(c.ct, st, svcs, r.now())
	resp.Replace = c.req.Kind == KindAction
	return &resp, nil
}

// ContainerCard renders one container with the actions its state allows.
// st and svcs may be nil (not ready, or the node did not answer).
func ContainerCard(ct *provision.Container, st *LiveStatus, svcs []provision.Service, now time.Time) Response {
	status := string(ct.State)
	if st != nil {
		status = st.Status
	}
	blocks := []Block{HeaderBlock(fmt.Sprintf("%s %s", stateIcon(status), ct.Hostname))}
	ip := ct.IP
	if st != nil && st.IP != "" {
		ip = st.IP
	}
	pairs := []Pair{
		{"State", status},
		{"Node / VMID", fmt.Sprintf("%s / %s", orNone(ct.NodeName), vmidText(ct.VMID))},
		{"IP", orNone(ip)},
		{"Template", orNone(ct.TemplateName)},
		{"Owner", ownerName(ct.Owner)},
		{"Age", age(now.Sub(ct.CreatedAt))},
	}
	if st != nil && st.MemTotal > 0 {
		pairs = append(pairs,
			Pair{"CPU", fmt.Sprintf("%.0f%%", st.CPU*100)},
			Pair{"Memory", fmt.Sprintf("%s / %s", bytesText(st.MemUsed), bytesText(st.MemTotal))},
			Pair{"Disk", fmt.Sprintf("%s / %s", bytesText(st.DiskUsed), bytesText(st.DiskTotal))},
			Pair{"Uptime", age(st.Uptime)},
		)
	}
	blocks = append(blocks, FieldsBlock(pairs...))
	if ct.State == provision.StateFailed {
		blocks = append(blocks, TextBlocks(fmt.Sprintf("*Failed at %s:* %s", ct.FailedPhase, orNone(ct.LastError)))...)
	}
	if apps := appServices(svcs); len(apps) > 0 {
		var lines []string
		for _, s := range apps {
			lines = append(lines, serviceLine(s))
		}
		blocks = append(blocks, TextBlocks("*Services*\n"+strings.Join(lines, "\n"))...)
	}
	blocks = append(blocks, ButtonBlocks(containerButtons(ct, status)...)...)
	return Response{Blocks: blocks}
}

func containerButtons(ct *provision.Container, status string) []Button {
	id := ct.ID
	confirm := func(verb, what string) *Confirm {
		return &Confirm{Title: clip(verb+" "+ct.Hostname+"?", 100), Text: clip(what, MaxConfirmText), ConfirmLabel: verb, DenyLabel: "Keep it running"}
	}
	var bs []Button
	switch ct.State {
	case provision.StatePending, provision.StateCreating:
		bs = append(bs, Button{Label: "Cancel creation", ActionID: ActJobCancel, Value: id, Style: StyleDanger,
			Confirm: &Confirm{Title: "Cancel creation?", Text: "The job stops and removes what it created on Proxmox.", ConfirmLabel: "Cancel creation", DenyLabel: "Let it run"}})
	case provision.StateFailed:
		bs = append(bs,
			Button{Label: "Retry", ActionID: ActJobRetry, Value: id, Style: StylePrimary},
			Button{Label: "Delete", ActionID: ActJobDelete, Value: id, Style: StyleDanger},
			Button{Label: "Keep for debugging", ActionID: ActJobKeep, Value: id})
	case provision.StateReady:
		if status == "running" {
			bs = append(bs,
				Button{Label: "Stop", ActionID: ActStop, Value: id, Style: StyleDanger, Confirm: confirm("Stop", "Forced stop of "+ct.Hostname+": running programs get no chance to save.")},
				Button{Label: "Shut down", ActionID: ActShutdown, Value: id, Confirm: confirm("Shut down", "Graceful shutdown of "+ct.Hostname+", forced after 30 s.")},
				Button{Label: "Restart", ActionID: ActRestart, Value: id, Confirm: confirm("Restart", "Reboot "+ct.Hostname+"; its services are briefly unavailable.")})
		} else {
			bs = append(bs, Button{Label: "Start", ActionID: ActStart, Value: id, Style: StylePrimary})
		}
		bs = append(bs, Button{Label: "Delete", ActionID: ActDelete, Value: id, Style: StyleDanger},
			Button{Label: "Services", ActionID: ActServices, Value: id},
			Button{Label: "Credentials", ActionID: ActCreds, Value: id})
	}
	return append(bs, Button{Label: "Events", ActionID: ActEvents, Value: id})
}

func appServices(svcs []provision.Service) []provision.Service {
	var out []provision.Service
	for _, s := range svcs {
		if s.Kind == provision.ServiceApplication {
			out = append(out, s)
		}
	}
	return out
}

func serviceLine(s provision.Service) string {
	line := fmt.Sprintf("%s `%s` %s", serviceIcon(s.Status), s.Unit, s.Status)
	if len(s.Ports) > 0 {
		ps := make([]string, len(s.Ports))
		for i, p := range s.Ports {
			ps[i] = fmt.Sprint(p)
		}
		line += " · port " + strings.Join(ps, ", ")
	}
	if s.URL != "" {
		line += " · <" + s.URL + ">"
	}
	return line
}

func serviceIcon(status string) string {
	switch status {
	case "active", "running":
		return "✅"
	case "failed":
		return "❌"
	}
	return "▫️"
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func bytesText(b uint64) string {
	const gib, mib = 1 << 30, 1 << 20
	if b >= gib {
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	}
	return fmt.Sprintf("%d MiB", b/mib)
}
