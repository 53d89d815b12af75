package pvesim

import (
	"maps"
	"time"
)

// Request is one API request as the simulator saw it.
type Request struct {
	Time     time.Time
	Method   string
	Path     string // relative to /api2/json
	Template string // schema path template, empty when unknown
	Params   map[string]string
	Status   int
	Reason   string
	Auth     string // "token", "ticket" or ""
}

// Counters count side effects that happened (task succeeded) per node, and
// tasks started and failed per task type.
type Counters struct {
	Created  map[string]int
	Started  map[string]int
	Stopped  map[string]int // stop and shutdown
	Rebooted map[string]int
	Deleted  map[string]int
	Updated  map[string]int // PUT config

	Tasks       map[string]int
	FailedTasks map[string]int
}

func newCounters() Counters {
	return Counters{
		Created: map[string]int{}, Started: map[string]int{}, Stopped: map[string]int{},
		Rebooted: map[string]int{}, Deleted: map[string]int{}, Updated: map[string]int{},
		Tasks: map[string]int{}, FailedTasks: map[string]int{},
	}
}

func (k Counters) clone() Counters {
	return Counters{
		Created: maps.Clone(k.Created), Started: maps.Clone(k.Started), Stopped: maps.Clone(k.Stopped),
		Rebooted: maps.Clone(k.Rebooted), Deleted: maps.Clone(k.Deleted), Updated: maps.Clone(k.Updated),
		Tasks: maps.Clone(k.Tasks), FailedTasks: maps.Clone(k.FailedTasks),
	}
}

// Counters returns a copy of the side-effect counters.
func (c *Cluster) Counters() Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counters.clone()
}

// Requests returns a copy of the request record, oldest first.
func (c *Cluster) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Request, len(c.requests))
	for i, r := range c.requests {
		r.Params = maps.Clone(r.Params)
		out[i] = r
	}
	return out
}

// ResetRecord clears the request record and the counters.
func (c *Cluster) ResetRecord() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = nil
	c.counters = newCounters()
}

// maxRecorded bounds the request record so a long-running simulator does
// not grow without limit.
const maxRecorded = 100000

func (c *Cluster) record(r Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) >= maxRecorded {
		c.requests = append(c.requests[:0], c.requests[len(c.requests)/2:]...)
	}
	c.requests = append(c.requests, r)
}
