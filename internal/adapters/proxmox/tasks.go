package proxmox

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// taskLogTail is how many of a failed task's last log lines TaskError keeps.
const taskLogTail = 20

// TaskError is a task that finished with an exit status other than OK.
type TaskError struct {
	UPID       string
	Node       string
	Type       string // vzcreate, vzstart, ...
	ExitStatus string // PVE's error text
	// Log holds the task's last log lines; the last is usually
	// "TASK ERROR: <text>".
	Log []string
}

func (e *TaskError) Error() string {
	msg := fmt.Sprintf("task %s failed: %s", e.Type, e.ExitStatus)
	if n := len(e.Log); n > 0 && e.Log[n-1] != "TASK ERROR: "+e.ExitStatus {
		msg += " (log: " + e.Log[n-1] + ")"
	}
	return msg
}

// Unwrap maps known task failures onto the package's errors.
func (e *TaskError) Unwrap() error {
	return newAPIError("", "", 500, e.ExitStatus, nil).kind
}

// taskPollFirst is the first wait between task status polls. Each wait
// doubles up to TaskPollInterval: most tasks take a second or two, so a
// quick first look ends a short task soon after it stops, and a long one is
// asked only once per TaskPollInterval.
const taskPollFirst = 100 * time.Millisecond

// nextTaskPoll is the wait after wait, doubling up to limit.
func nextTaskPoll(wait, limit time.Duration) time.Duration {
	return min(2*wait, limit)
}

// WaitTask polls a task until it stops and returns nil only if its exit
// status is OK (or "WARNINGS: N"). A failure is a *TaskError carrying the
// exit status and the last log lines. node may be empty: it is then read
// from the UPID. Polls start 100 ms apart and back off to TaskPollInterval.
func (c *Client) WaitTask(ctx context.Context, node, upid string) error {
	if node == "" {
		node = upidNode(upid)
	}
	if node == "" {
		return fmt.Errorf("waiting for task: malformed UPID %q", upid)
	}
	path := nodePath(node, "tasks", upid, "status")
	wait := min(taskPollFirst, c.cfg.TaskPollInterval)
	for {
		var st rawTaskStatus
		if err := c.get(ctx, path, nil, &st); err != nil {
			return fmt.Errorf("waiting for task %s on %s: %w", upid, node, err)
		}
		if st.Status != "running" {
			if st.ExitStatus == "OK" || strings.HasPrefix(st.ExitStatus, "WARNINGS") {
				return nil
			}
			typ := st.Type
			if typ == "" {
				typ = upidField(upid, 5)
			}
			return &TaskError{UPID: upid, Node: node, Type: typ, ExitStatus: st.ExitStatus, Log: c.taskLogTail(ctx, node, upid)}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for task %s on %s: %w", upid, node, ctx.Err())
		case <-t.C:
		}
		wait = nextTaskPoll(wait, c.cfg.TaskPollInterval)
	}
}

// taskLogTail returns the last lines of a task's log, or nil if it cannot
// be read (the failure itself matters more than its log).
func (c *Client) taskLogTail(ctx context.Context, node, upid string) []string {
	const page = 500
	var lines []string
	for start := 0; start < 50*page; start += page {
		var got []rawLogLine
		q := url.Values{"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(page)}}
		if err := c.get(ctx, nodePath(node, "tasks", upid, "log"), q, &got); err != nil {
			c.log.WarnContext(ctx, "reading task log failed", "upid", upid, "err", err)
			break
		}
		for _, l := range got {
			lines = append(lines, l.T)
		}
		if len(lines) > taskLogTail {
			lines = append(lines[:0], lines[len(lines)-taskLogTail:]...)
		}
		if len(got) < page {
			break
		}
	}
	return lines
}

// upidField returns field i of UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:.
func upidField(upid string, i int) string {
	f := strings.Split(upid, ":")
	if len(f) < 9 || f[0] != "UPID" || i >= len(f) {
		return ""
	}
	return f[i]
}

func upidNode(upid string) string { return upidField(upid, 1) }
