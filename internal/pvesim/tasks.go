package pvesim

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// task is one PVE worker task.
type task struct {
	upid      string
	node      *simNode
	pid       int
	pstart    int
	starttime int64
	endtime   int64
	typ       string
	id        string
	user      string // user@realm
	tokenid   string // token name, empty for tickets
	status    string // running or stopped
	exit      string // OK or error text once stopped
	log       []string
	timer     *time.Timer
}

// TaskInfo is a snapshot of a task for tests.
type TaskInfo struct {
	UPID       string
	Node       string
	Type       string
	ID         string
	User       string
	TokenID    string
	Status     string
	ExitStatus string
	Log        []string
}

// taskSpec describes the work behind a task. run applies the side effect
// when the task finishes (under the cluster lock) and returns the log lines
// it produced; fail undoes what the synchronous part of the API call did
// when the task fails.
type taskSpec struct {
	node     *simNode
	typ      string
	id       string
	auth     authInfo
	duration time.Duration
	run      func() ([]string, error)
	fail     func()
}

var upidRe = regexp.MustCompile(`^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$`)

// startTask registers a task and runs it now (fast mode) or after its
// duration. Must be called with c.mu held.
func (c *Cluster) startTask(spec taskSpec) *task {
	now := time.Now()
	pid := c.newPID()
	t := &task{
		node:      spec.node,
		pid:       pid,
		pstart:    int(now.Sub(spec.node.bootTime).Seconds()*100) & 0x7fffffff,
		starttime: now.Unix(),
		typ:       spec.typ,
		id:        spec.id,
		user:      spec.auth.user,
		tokenid:   spec.auth.tokenName,
		status:    statusRunning,
	}
	owner := spec.auth.user
	if spec.auth.tokenName != "" {
		owner += "!" + spec.auth.tokenName
	}
	t.upid = fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", spec.node.name, t.pid, t.pstart, t.starttime, t.typ, t.id, owner)
	c.tasks[t.upid] = t
	spec.node.tasks = append(spec.node.tasks, t)
	c.counters.Tasks[t.typ]++

	failure := c.takeTaskFault(spec.node.name, spec.typ, spec.id)
	finish := func() {
		if t.status != statusRunning {
			return
		}
		var lines []string
		err := failure
		if err == nil {
			lines, err = spec.run()
		}
		t.log = append(t.log, lines...)
		t.status = statusStopped
		t.endtime = time.Now().Unix()
		if err != nil {
			if spec.fail != nil {
				spec.fail()
			}
			t.exit = err.Error()
			t.log = append(t.log, "TASK ERROR: "+t.exit)
			c.counters.FailedTasks[t.typ]++
			c.log.Info("task failed", "upid", t.upid, "error", t.exit)
			return
		}
		t.exit = "OK"
		t.log = append(t.log, "TASK OK")
	}

	d := spec.duration
	if c.opts.TaskDuration == 0 || c.closed {
		finish()
		return t
	}
	if d == 0 {
		d = c.opts.TaskDuration
	}
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.timers, timer)
		finish()
	})
	t.timer = timer
	c.timers[timer] = struct{}{}
	return t
}

// stopTask interrupts a running task (DELETE .../tasks/{upid}).
func (c *Cluster) stopTask(t *task) {
	if t.status != statusRunning {
		return
	}
	if t.timer != nil && t.timer.Stop() {
		delete(c.timers, t.timer)
	}
	t.status = statusStopped
	t.endtime = time.Now().Unix()
	t.exit = "unexpected status"
	t.log = append(t.log, "received interrupt", "TASK ERROR: interrupted by signal")
}

func (t *task) info() TaskInfo {
	return TaskInfo{
		UPID: t.upid, Node: t.node.name, Type: t.typ, ID: t.id, User: t.user, TokenID: t.tokenid,
		Status: t.status, ExitStatus: t.exit, Log: append([]string(nil), t.log...),
	}
}

// Task returns a snapshot of the task with the given UPID.
func (c *Cluster) Task(upid string) (TaskInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tasks[upid]
	if !ok {
		return TaskInfo{}, false
	}
	return t.info(), true
}

// Tasks returns snapshots of all tasks on node ("" for all), oldest first.
func (c *Cluster) Tasks(node string) []TaskInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []TaskInfo
	for _, n := range c.nodes {
		if node != "" && n.name != node {
			continue
		}
		for _, t := range n.tasks {
			out = append(out, t.info())
		}
	}
	return out
}

// statusJSON is the task status object (GET .../tasks/{upid}/status).
func (t *task) statusJSON() map[string]any {
	m := map[string]any{
		"upid":      t.upid,
		"node":      t.node.name,
		"pid":       t.pid,
		"pstart":    t.pstart,
		"starttime": t.starttime,
		"type":      t.typ,
		"id":        t.id,
		"user":      t.user,
		"status":    t.status,
	}
	if t.tokenid != "" {
		m["tokenid"] = t.tokenid
	}
	if t.status == statusStopped {
		m["exitstatus"] = t.exit
	}
	return m
}

// listJSON is the task's entry in GET /nodes/{node}/tasks, where status
// carries the exit text.
func (t *task) listJSON() map[string]any {
	m := map[string]any{
		"upid":      t.upid,
		"node":      t.node.name,
		"pid":       t.pid,
		"pstart":    t.pstart,
		"starttime": t.starttime,
		"type":      t.typ,
		"id":        t.id,
		"user":      t.user,
	}
	if t.tokenid != "" {
		m["tokenid"] = t.tokenid
	}
	if t.status == statusStopped {
		m["status"] = t.exit
		m["endtime"] = t.endtime
	} else {
		m["status"] = "RUNNING"
	}
	return m
}

func vmidString(vmid int) string { return strconv.Itoa(vmid) }
