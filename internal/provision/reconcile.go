package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// JobInspector tells whether a container's creation job is queued or
// running.
type JobInspector interface {
	JobActive(ctx context.Context, containerID string) (bool, error)
}

// ReconcileStore is what the reconciler needs from the system of record.
type ReconcileStore interface {
	// ListStuckContainers returns containers in one of states not updated
	// since updatedBefore.
	ListStuckContainers(ctx context.Context, states []State, updatedBefore time.Time) ([]Container, error)
	TransitionContainer(ctx context.Context, id string, from []State, to State) error
	FailContainer(ctx context.Context, id string, phase Phase, errText string) error
	AppendEvent(ctx context.Context, e *Event) error
	ListEvents(ctx context.Context, containerID string, types []EventType, limit int) ([]Event, error)
	ListNodes(ctx context.Context) ([]Node, error)
}

// ReconcileConfig tunes the reconciler. Zero values take the defaults.
type ReconcileConfig struct {
	// StuckAfter is how long a pending or creating container may go
	// without change before its job is looked at (default 10m).
	StuckAfter time.Duration
	// MaxResumes is how many times in a row a stuck creation is
	// re-enqueued without finishing a phase before it is failed (default 3).
	MaxResumes int
	// NodeTimeout bounds one node's answer (default 10s).
	NodeTimeout time.Duration
}

// ReconcilerDeps are the Reconciler's collaborators.
type ReconcilerDeps struct {
	Store    ReconcileStore
	Nodes    NodeAPIs
	Queue    Enqueuer
	Jobs     JobInspector
	Locker   Locker
	Notifier Notifier     // nil = no announcements
	Clock    Clock        // nil = SystemClock
	Log      *slog.Logger // nil = discard
	Config   ReconcileConfig
}

// Reconciler compares the records with Proxmox: it resumes or fails stuck
// creations, marks containers deleted outside the bot as gone, records
// drift (renamed or unmarked containers) and announces nodes that stop or
// start answering.
//
// Node health lives in memory: after a restart the first pass announces
// nodes that are down again (better one repeated warning than a silent
// outage), and a node that came back while the bot was down is not
// announced.
type Reconciler struct {
	store    ReconcileStore
	nodes    NodeAPIs
	queue    Enqueuer
	jobs     JobInspector
	locker   Locker
	notifier Notifier
	clock    Clock
	log      *slog.Logger
	cfg      ReconcileConfig

	mu       sync.Mutex
	nodeDown map[string]bool // node -> announced as down
}

// NewReconciler builds a Reconciler.
func NewReconciler(d ReconcilerDeps) *Reconciler {
	r := &Reconciler{store: d.Store, nodes: d.Nodes, queue: d.Queue, jobs: d.Jobs, locker: d.Locker,
		notifier: d.Notifier, clock: d.Clock, log: d.Log, cfg: d.Config, nodeDown: map[string]bool{}}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "reconciler")
	if r.cfg.StuckAfter <= 0 {
		r.cfg.StuckAfter = 10 * time.Minute
	}
	if r.cfg.MaxResumes <= 0 {
		r.cfg.MaxResumes = 3
	}
	if r.cfg.NodeTimeout <= 0 {
		r.cfg.NodeTimeout = 10 * time.Second
	}
	return r
}

// Findings is what one reconciler pass found and did.
type Findings struct {
	Resumed   []string // container ids re-enqueued
	Failed    []string // stuck container ids failed
	Gone      []string // container ids marked gone
	Drifted   []string // container ids with a new drift event
	NodesDown []string // nodes announced down in this pass
	NodesUp   []string // nodes announced back in this pass
	Errors    []string // what could not be checked, safe to log
}

// Run reconciles every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "reconciler pass failed", "err", err)
		} else if len(f.Errors) > 0 {
			r.log.WarnContext(ctx, "reconciler pass incomplete", "errors", f.Errors)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunOnce runs one pass.
func (r *Reconciler) RunOnce(ctx context.Context) (Findings, error) {
	var f Findings
	if err := r.stuck(ctx, &f); err != nil {
		return f, err
	}
	if err := r.drift(ctx, &f); err != nil {
		return f, err
	}
	return f, nil
}

// stuck resumes or fails pending and creating containers whose job is gone.
func (r *Reconciler) stuck(ctx context.Context, f *Findings) error {
	cs, err := r.store.ListStuckContainers(ctx, []State{StatePending, StateCreating}, r.clock.Now().Add(-r.cfg.StuckAfter))
	if err != nil {
		return fmt.Errorf("listing stuck containers: %w", err)
	}
	for _, c := range cs {
		active, err := r.jobs.JobActive(ctx, c.ID)
		if err != nil {
			f.Errors = append(f.Errors, fmt.Sprintf("checking the job of %s: %v", c.ID, err))
			continue
		}
		if active {
			continue
		}
		events, err := r.store.ListEvents(ctx, c.ID, []EventType{EventAction, EventPhaseFinished}, 0)
		if err != nil {
			f.Errors = append(f.Errors, fmt.Sprintf("reading events of %s: %v", c.ID, err))
			continue
		}
		resumes, attempt := resumesWithoutProgress(events)
		log := r.log.With("container", c.ID, "hostname", c.Hostname)
		if resumes >= r.cfg.MaxResumes {
			phase := firstMissingPhase(&c)
			msg := fmt.Sprintf("the creation job stopped at %s and was resumed %d times without progress: use Retry or Delete", phase, resumes)
			if err := r.store.FailContainer(ctx, c.ID, phase, msg); err != nil {
				if errors.Is(err, ErrConflict) {
					continue // it moved on meanwhile
				}
				f.Errors = append(f.Errors, fmt.Sprintf("failing %s: %v", c.ID, err))
				continue
			}
			r.event(ctx, &Event{ContainerID: c.ID, Type: EventError, Phase: phase, Message: msg, Actor: "system"})
			log.WarnContext(ctx, "stuck creation failed", "phase", phase)
			f.Failed = append(f.Failed, c.ID)
			r.notify(ctx, containerNotification(NotifyFailed, &c, fmt.Sprintf("creation of %s failed: %s", c.Hostname, msg), r.clock.Now()))
			continue
		}
		// Recorded as a retry so that the engine numbers later retries past
		// this attempt and the queue runs each attempt once.
		r.event(ctx, &Event{ContainerID: c.ID, Type: EventAction, Phase: firstMissingPhase(&c), Actor: "system",
			Message: fmt.Sprintf("resumed: no live job after %s", r.cfg.StuckAfter),
			Data:    map[string]any{"action": "retry", "by": "reconciler", "attempt": attempt}})
		if err := r.queue.EnqueueCreate(ctx, c.ID, attempt); err != nil {
			f.Errors = append(f.Errors, fmt.Sprintf("re-enqueueing %s: %v", c.ID, err))
			continue
		}
		log.InfoContext(ctx, "stuck creation resumed", "attempt", attempt)
		f.Resumed = append(f.Resumed, c.ID)
	}
	return nil
}

// resumesWithoutProgress counts the reconciler's resumes since the job
// last made progress (a phase finished, or a user asked for a retry), and
// returns the attempt number the next run gets. A long creation that a
// flaky worker interrupts now and then keeps going as long as each run
// finishes a phase. events are in order.
func resumesWithoutProgress(events []Event) (resumes, nextAttempt int) {
	nextAttempt = 1
	for _, e := range events {
		switch {
		case e.Type == EventPhaseFinished:
			resumes = 0
		case e.Type == EventAction && e.Data["action"] == "retry":
			nextAttempt++
			if e.Data["by"] == "reconciler" {
				resumes++
			} else {
				resumes = 0
			}
		}
	}
	return resumes, nextAttempt
}

func firstMissingPhase(c *Container) Phase {
	for _, p := range Phases {
		if !c.HasPhase(p) {
			return p
		}
	}
	return PhaseReady
}

// drift checks node health and every ready container against its node.
func (r *Reconciler) drift(ctx context.Context, f *Findings) error {
	nodes, err := r.store.ListNodes(ctx)
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	ready, err := r.store.ListStuckContainers(ctx, []State{StateReady}, r.clock.Now().Add(time.Hour))
	if err != nil {
		return fmt.Errorf("listing ready containers: %w", err)
	}
	byNode := map[string][]Container{}
	for _, c := range ready {
		byNode[c.NodeName] = append(byNode[c.NodeName], c)
	}
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	for n := range byNode {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)

	type answer struct {
		guests map[int]GuestStatus
		err    error
	}
	answers := make([]answer, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gs, err := r.nodeGuests(ctx, name)
			if err != nil {
				answers[i].err = err
				return
			}
			m := make(map[int]GuestStatus, len(gs))
			for _, g := range gs {
				m[g.VMID] = g
			}
			answers[i].guests = m
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for i, name := range names {
		a := answers[i]
		r.nodeHealth(ctx, name, a.err, f)
		if a.err != nil {
			continue // never judge containers by a node that does not answer
		}
		for _, c := range byNode[name] {
			r.checkContainer(ctx, c, a.guests, f)
		}
	}
	return nil
}

func (r *Reconciler) nodeGuests(ctx context.Context, node string) (gs []GuestStatus, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading guests of %s: panic: %v", node, p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.NodeTimeout)
	defer cancel()
	api, err := r.nodes.NodeAPI(ctx, node)
	if err != nil {
		return nil, err
	}
	return api.NodeGuests(ctx, node)
}

// nodeHealth announces a node going down once, and coming back once.
func (r *Reconciler) nodeHealth(ctx context.Context, node string, err error, f *Findings) {
	r.mu.Lock()
	wasDown := r.nodeDown[node]
	down := err != nil
	r.nodeDown[node] = down
	r.mu.Unlock()
	switch {
	case down && !wasDown:
		r.log.WarnContext(ctx, "node not answering", "node", node, "err", err)
		f.NodesDown = append(f.NodesDown, node)
		r.notify(ctx, Notification{Kind: NotifyNode, Node: node, At: r.clock.Now(),
			Text: fmt.Sprintf("node %s is not answering: its containers cannot be managed until it is back", node)})
	case !down && wasDown:
		r.log.InfoContext(ctx, "node answering again", "node", node)
		f.NodesUp = append(f.NodesUp, node)
		r.notify(ctx, Notification{Kind: NotifyNode, Node: node, At: r.clock.Now(),
			Text: fmt.Sprintf("node %s is answering again", node)})
	}
}

// checkContainer compares a ready container with what its node reports.
func (r *Reconciler) checkContainer(ctx context.Context, c Container, guests map[int]GuestStatus, f *Findings) {
	g, ok := guests[c.VMID]
	if !ok {
		r.markGone(ctx, c, f)
		return
	}
	var drift []string
	if !strings.EqualFold(g.Name, c.Hostname) {
		drift = append(drift, fmt.Sprintf("hostname is %s on Proxmox, %s in the records", g.Name, c.Hostname))
	}
	if !slices.Contains(g.Tags, MarkerTag) {
		drift = append(drift, fmt.Sprintf("the %s tag was removed", MarkerTag))
	}
	if len(drift) == 0 {
		return
	}
	msg := "changed outside the bot: " + strings.Join(drift, "; ")
	// Announce each distinct drift once, however many passes see it.
	last, err := r.store.ListEvents(ctx, c.ID, []EventType{EventDrift}, 1)
	if err != nil {
		r.log.WarnContext(ctx, "reading drift events failed", "container", c.ID, "err", err)
		return
	}
	if len(last) > 0 && last[0].Message == msg {
		return
	}
	r.event(ctx, &Event{ContainerID: c.ID, Type: EventDrift, Message: msg, Actor: "system",
		Data: map[string]any{"proxmox_name": g.Name, "tags": strings.Join(g.Tags, ";")}})
	f.Drifted = append(f.Drifted, c.ID)
	r.notify(ctx, containerNotification(NotifyDrift, &c, fmt.Sprintf("%s (CT %d on %s) %s", c.Hostname, c.VMID, c.NodeName, msg), r.clock.Now()))
}

// markGone records a container that vanished from Proxmox. It holds the
// container's lock so a lifecycle action that is deleting it right now wins.
func (r *Reconciler) markGone(ctx context.Context, c Container, f *Findings) {
	lock, err := r.locker.Acquire(ctx, ContainerLockKey(c.ID),
		LockHolder{Who: "reconciler", Action: "drift check", Since: r.clock.Now()}, time.Minute)
	if err != nil {
		return // busy: look again next pass
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	if err := r.store.TransitionContainer(ctx, c.ID, []State{StateReady}, StateGone); err != nil {
		if !errors.Is(err, ErrConflict) {
			f.Errors = append(f.Errors, fmt.Sprintf("marking %s gone: %v", c.ID, err))
		}
		return
	}
	msg := fmt.Sprintf("CT %d no longer exists on %s: deleted outside the bot", c.VMID, c.NodeName)
	r.event(ctx, &Event{ContainerID: c.ID, Type: EventDrift, Message: msg, Actor: "system",
		Data: map[string]any{"gone": true}})
	r.log.WarnContext(ctx, "container gone", "container", c.ID, "vmid", c.VMID, "node", c.NodeName)
	f.Gone = append(f.Gone, c.ID)
	c.State = StateGone
	r.notify(ctx, containerNotification(NotifyDrift, &c, c.Hostname+": "+msg, r.clock.Now()))
}

func (r *Reconciler) event(ctx context.Context, e *Event) {
	if err := r.store.AppendEvent(ctx, e); err != nil {
		r.log.WarnContext(ctx, "recording event failed", "container", e.ContainerID, "err", err)
	}
}

func (r *Reconciler) notify(ctx context.Context, n Notification) {
	if r.notifier == nil {
		return
	}
	if err := r.notifier.Notify(ctx, n); err != nil {
		r.log.WarnContext(ctx, "announcement failed", "kind", string(n.Kind), "err", err)
	}
}
