package provision

import "time"

// ProgressType classifies progress events.
type ProgressType string

// Progress event types. Ready, Failed and Cancelled are terminal for a job
// attempt.
const (
	ProgressPhaseStarted   ProgressType = "phase_started"
	ProgressPhaseFinished  ProgressType = "phase_finished"
	ProgressLog            ProgressType = "log"
	ProgressScriptStarted  ProgressType = "script_started"
	ProgressScriptFinished ProgressType = "script_finished"
	ProgressWarning        ProgressType = "warning"
	ProgressFailed         ProgressType = "failed"
	ProgressReady          ProgressType = "ready"
	ProgressCancelled      ProgressType = "cancelled"
)

// Terminal reports whether t ends a job attempt.
func (t ProgressType) Terminal() bool {
	return t == ProgressFailed || t == ProgressReady || t == ProgressCancelled
}

// ProgressEvent is one step of a creation job as adapters render it: a job
// card (progress bar, phase, script i/n) and thread entries (one per phase,
// failing output on error). Text fields never hold secrets.
type ProgressEvent struct {
	ID          string        `json:"id,omitempty"` // set by the bus; resume after it
	ContainerID string        `json:"container_id"`
	Seq         int64         `json:"seq"` // per job, increasing
	Type        ProgressType  `json:"type"`
	Phase       Phase         `json:"phase,omitempty"`
	Percent     int           `json:"percent"`
	Script      string        `json:"script,omitempty"`
	ScriptIndex int           `json:"script_index,omitempty"` // 1-based
	ScriptTotal int           `json:"script_total,omitempty"`
	Line        string        `json:"line,omitempty"`
	Stream      string        `json:"stream,omitempty"` // stdout, stderr
	Message     string        `json:"message,omitempty"`
	Lines       []string      `json:"lines,omitempty"` // last output lines of a failure
	Duration    time.Duration `json:"duration,omitempty"`
	Hostname    string        `json:"hostname,omitempty"`
	VMID        int           `json:"vmid,omitempty"`
	Node        string        `json:"node,omitempty"`
	IP          string        `json:"ip,omitempty"`
	At          time.Time     `json:"at"`
}

// phaseWeights is how much of the progress bar each phase fills; packages and
// scripts dominate real runs.
var phaseWeights = map[Phase]int{
	PhaseReserve:  2,
	PhaseCreate:   15,
	PhaseStart:    5,
	PhaseNetwork:  5,
	PhaseDeploy:   5,
	PhasePackages: 25,
	PhaseScripts:  35,
	PhaseDiscover: 6,
	PhaseReady:    2,
}

// PhasePercent is the progress when phase has started (done=false) or
// finished (done=true); frac (0..1) interpolates within a running phase.
func PhasePercent(phase Phase, frac float64) int {
	total, before := 0, 0
	seen := false
	for _, p := range Phases {
		if p == phase {
			seen = true
			before = total
		}
		total += phaseWeights[p]
	}
	if !seen {
		return 0
	}
	if frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	return int((float64(before) + frac*float64(phaseWeights[phase])) * 100 / float64(total))
}
