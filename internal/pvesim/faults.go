package pvesim

import (
	"errors"
	"path"
	"strings"
	"time"
)

// Fault makes matching API requests fail or slow down.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string
	// Path matches either the schema path template
	// ("/nodes/{node}/lxc/{vmid}/status/start") or, as a path.Match
	// pattern, the concrete path ("/nodes/pve2/*"). Empty matches any.
	// Paths are relative to /api2/json.
	Path string
	// Status is the HTTP status to answer with; 0 means the request is only
	// delayed and then served normally.
	Status int
	// Message is the reason phrase (default: the standard status text).
	// Statuses 502 and above get an empty body, like a proxy error.
	Message string
	// Count limits how many requests the fault hits; 0 means no limit.
	Count int
	// Rate is the probability (0 < Rate <= 1) that a matching request is
	// hit; 0 means every matching request.
	Rate float64
	// Delay is extra latency before the answer.
	Delay time.Duration
}

type faultState struct {
	id        int
	f         Fault
	remaining int
}

// TaskFault makes the next matching task(s) fail: the API call still
// returns a UPID, and the task ends with ExitStatus Message and a
// "TASK ERROR: <Message>" log line. The side effect does not happen (a
// failed create leaves no container behind).
type TaskFault struct {
	Node    string // empty matches any node
	Type    string // task type such as vzcreate or vzstart; empty matches any
	VMID    int    // 0 matches any
	Message string
	Count   int // how many tasks fail; 0 means 1
}

// InjectFault adds a request fault and returns its id for RemoveFault.
func (c *Cluster) InjectFault(f Fault) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := 1
	for _, fs := range c.faults {
		id = max(id, fs.id+1)
	}
	c.faults = append(c.faults, &faultState{id: id, f: f, remaining: f.Count})
	return id
}

// RemoveFault removes a request fault.
func (c *Cluster) RemoveFault(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = removeFault(c.faults, id)
}

// ClearFaults removes all request and task faults.
func (c *Cluster) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
	c.taskFaults = nil
}

// FailTask arranges for the next matching task(s) to fail.
func (c *Cluster) FailTask(f TaskFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Message == "" {
		f.Message = "simulated task failure"
	}
	c.taskFaults = append(c.taskFaults, &f)
}

func removeFault(fs []*faultState, id int) []*faultState {
	out := fs[:0]
	for _, f := range fs {
		if f.id != id {
			out = append(out, f)
		}
	}
	return out
}

// matchFault returns the delay and, if the request must fail, the fault's
// status and reason.
func (c *Cluster) matchFault(method, template, concrete string) (delay time.Duration, status int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fs := range c.faults {
		f := fs.f
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Path != "" && f.Path != template {
			if ok, _ := path.Match(f.Path, concrete); !ok {
				continue
			}
		}
		if f.Rate > 0 && f.Rate < 1 && c.rng.Float64() >= f.Rate {
			continue
		}
		delay += f.Delay
		if f.Status == 0 {
			continue
		}
		if f.Count > 0 {
			fs.remaining--
			if fs.remaining <= 0 {
				c.faults = removeFault(c.faults, fs.id)
			}
		}
		return delay, f.Status, f.Message
	}
	return delay, 0, ""
}

// takeTaskFault consumes a matching task fault. Must be called with c.mu held.
func (c *Cluster) takeTaskFault(node, typ, id string) error {
	for i, f := range c.taskFaults {
		if (f.Node == "" || f.Node == node) && (f.Type == "" || f.Type == typ) && (f.VMID == 0 || vmidString(f.VMID) == id) {
			f.Count--
			if f.Count <= 0 {
				c.taskFaults = append(c.taskFaults[:i], c.taskFaults[i+1:]...)
			}
			return errors.New(f.Message)
		}
	}
	return nil
}
