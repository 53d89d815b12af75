package provision

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lxcbot/lxcbot/internal/metrics"
)

// Config tunes the provisioning engine. Zero values take the defaults below.
type Config struct {
	// VMIDMin and VMIDMax bound automatically chosen VMIDs (100..999999999).
	VMIDMin, VMIDMax int
	// DefaultStorage and DefaultBridge apply when neither the request nor
	// the template names one.
	DefaultStorage string
	DefaultBridge  string
	// LockTTL is the expiry of the per-container lock; the job refreshes it
	// every LockTTL/3.
	LockTTL time.Duration
	// PhaseTimeouts bound each phase; missing phases use DefaultPhaseTimeout.
	PhaseTimeouts       map[Phase]time.Duration
	DefaultPhaseTimeout time.Duration
	// NetworkWait bounds the wait for a DHCP address (a warning, not a
	// failure, when it runs out); NetworkPoll is the longest wait between
	// two polls, which start 100 ms apart and double up to it.
	NetworkWait, NetworkPoll time.Duration
	// FilesystemWait bounds the wait for the container's filesystem.
	FilesystemWait time.Duration
	// CreateAttempts is how many VMIDs the create phase tries when Proxmox
	// says a VMID exists and the container is not ours.
	CreateAttempts int
	// TailLines is how many output lines a failure keeps.
	TailLines int
}

func (c Config) withDefaults() Config {
	if c.VMIDMin < 100 {
		c.VMIDMin = 100
	}
	if c.VMIDMax <= c.VMIDMin || c.VMIDMax > 999999999 {
		c.VMIDMax = 999999999
	}
	if c.DefaultStorage == "" {
		c.DefaultStorage = "local-lvm"
	}
	if c.DefaultBridge == "" {
		c.DefaultBridge = "vmbr0"
	}
	if c.LockTTL <= 0 {
		c.LockTTL = time.Minute
	}
	if c.DefaultPhaseTimeout <= 0 {
		c.DefaultPhaseTimeout = 10 * time.Minute
	}
	if c.PhaseTimeouts == nil {
		c.PhaseTimeouts = map[Phase]time.Duration{
			PhaseReserve:  time.Minute,
			PhaseCreate:   10 * time.Minute,
			PhaseStart:    2 * time.Minute,
			PhaseNetwork:  3 * time.Minute,
			PhaseDeploy:   5 * time.Minute,
			PhasePackages: 30 * time.Minute,
			PhaseScripts:  45 * time.Minute,
			PhaseDiscover: 2 * time.Minute,
			PhaseReady:    time.Minute,
		}
	}
	if c.NetworkWait <= 0 {
		c.NetworkWait = 60 * time.Second
	}
	if c.NetworkPoll <= 0 {
		c.NetworkPoll = time.Second
	}
	if c.FilesystemWait <= 0 {
		c.FilesystemWait = 60 * time.Second
	}
	if c.CreateAttempts <= 0 {
		c.CreateAttempts = 5
	}
	if c.TailLines <= 0 {
		c.TailLines = 20
	}
	return c
}

func (c Config) phaseTimeout(p Phase) time.Duration {
	if d, ok := c.PhaseTimeouts[p]; ok && d > 0 {
		return d
	}
	return c.DefaultPhaseTimeout
}

// Deps are the Engine's collaborators.
type Deps struct {
	Store  Store
	Nodes  NodeClients
	Queue  Enqueuer
	Locker Locker
	Bus    Bus
	Clock  Clock        // nil = SystemClock
	Log    *slog.Logger // nil = discard
	Config Config
	// Metrics receives phase durations and outcomes and job outcomes;
	// nil = none.
	Metrics *metrics.Metrics
	// Notifier announces finished creations (created, failed) to the team;
	// nil = none.
	Notifier Notifier
}

// Engine is the provisioning engine's entry point for creation: planning,
// recording and enqueueing requests, running the pipeline in workers, and
// retry, cancel, keep and progress subscriptions. It does not authorise:
// callers check roles and ownership before calling.
//
// It is the facade the command layer calls (named Engine because Service is
// the discovered-systemd-unit type of this package).
type Engine struct {
	store  Store
	nodes  NodeClients
	queue  Enqueuer
	locker Locker
	bus    Bus
	clock  Clock
	log    *slog.Logger
	cfg    Config
	m      *metrics.Metrics
	notify Notifier
}

// New builds an Engine.
func New(d Deps) *Engine {
	s := &Engine{
		store:  d.Store,
		nodes:  d.Nodes,
		queue:  d.Queue,
		locker: d.Locker,
		bus:    d.Bus,
		clock:  d.Clock,
		log:    d.Log,
		cfg:    d.Config.withDefaults(),
		m:      d.Metrics,
		notify: d.Notifier,
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// ContainerIDFor returns the container id a dedupe key maps to, so the same
// request delivered twice names the same record. An empty key gets a fresh
// random id.
func ContainerIDFor(dedupeKey string) string {
	if dedupeKey == "" {
		var b [10]byte
		_, _ = rand.Read(b[:])
		return "ct-" + hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte("lxcbot/create/" + dedupeKey))
	return "ct-" + hex.EncodeToString(sum[:10])
}

func actor(p Principal) string {
	if p.UserID == "" {
		return "system"
	}
	return string(p.Platform) + ":" + p.UserID
}

// Create validates req, records the container (state pending) and enqueues
// its creation job. The same dedupeKey (a platform delivery id, a form
// submission id) returns the existing container and never creates a second.
func (s *Engine) Create(ctx context.Context, p Principal, origin Origin, req CreateRequest, dedupeKey string) (*Container, error) {
	id := ContainerIDFor(dedupeKey)
	if dedupeKey != "" {
		if c, err := s.existing(ctx, id); err != nil || c != nil {
			return c, err
		}
	}
	plan, err := s.PlanCreate(ctx, p, req)
	if err != nil {
		return nil, err
	}
	c := &Container{
		ID:           id,
		NodeName:     plan.Node,
		Hostname:     plan.Request.Hostname,
		TemplateName: plan.Template.Name,
		Owner:        p,
		Origin:       origin,
		Request:      plan.Request,
	}
	if err := s.store.CreateContainer(ctx, c); err != nil {
		if errors.Is(err, ErrConflict) {
			if dedupeKey != "" {
				if ex, exErr := s.existing(ctx, id); exErr != nil || ex != nil {
					return ex, exErr
				}
			}
			return nil, Userf(ErrConflict, "a container named %s already exists: choose another hostname", plan.Request.Hostname)
		}
		return nil, fmt.Errorf("recording container %s: %w", plan.Request.Hostname, err)
	}
	s.log.InfoContext(ctx, "container requested", "container", c.ID, "hostname", c.Hostname,
		"template", c.TemplateName, "node", c.NodeName, "actor", actor(p))
	if err := s.queue.EnqueueCreate(ctx, c.ID, 0); err != nil {
		// The record stays pending; a repeated delivery or the reconciler
		// enqueues it again.
		return c, fmt.Errorf("queueing creation of %s: %w", c.Hostname, err)
	}
	return c, nil
}

// existing returns the container recorded under id, re-enqueueing it if it is
// still pending (the first enqueue may have failed); nil if there is none.
func (s *Engine) existing(ctx context.Context, id string) (*Container, error) {
	c, err := s.store.GetContainer(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up container %s: %w", id, err)
	}
	if c.State == StatePending && len(c.CompletedPhases) == 0 {
		if err := s.queue.EnqueueCreate(ctx, c.ID, 0); err != nil {
			return &c, fmt.Errorf("queueing creation of %s: %w", c.Hostname, err)
		}
	}
	return &c, nil
}

// Retry resumes a failed creation from the phase that failed.
func (s *Engine) Retry(ctx context.Context, p Principal, containerID string) error {
	c, err := s.store.GetContainer(ctx, containerID)
	if err != nil {
		return s.notFound(containerID, err)
	}
	if c.State != StateFailed {
		return Userf(ErrConflict, "%s is %s, not failed: only a failed creation can be retried", c.Hostname, c.State)
	}
	attempt, err := s.nextAttempt(ctx, c.ID)
	if err != nil {
		return err
	}
	if err := s.queue.ClearCancel(ctx, c.ID); err != nil {
		return fmt.Errorf("retrying %s: clearing cancel request: %w", c.Hostname, err)
	}
	if err := s.store.TransitionContainer(ctx, c.ID, []State{StateFailed}, StatePending); err != nil {
		if errors.Is(err, ErrConflict) {
			return Userf(ErrConflict, "%s changed meanwhile: look at it again before retrying", c.Hostname)
		}
		return fmt.Errorf("retrying %s: %w", c.Hostname, err)
	}
	if err := s.store.AppendEvent(ctx, &Event{ContainerID: c.ID, Type: EventAction, Phase: c.FailedPhase,
		Message: fmt.Sprintf("retry from %s", c.FailedPhase), Actor: actor(p),
		Data: map[string]any{"action": "retry", "attempt": attempt}}); err != nil {
		return fmt.Errorf("retrying %s: %w", c.Hostname, err)
	}
	if err := s.queue.EnqueueCreate(ctx, c.ID, attempt); err != nil {
		return fmt.Errorf("retrying %s: queueing attempt %d: %w", c.Hostname, attempt, err)
	}
	s.log.InfoContext(ctx, "creation retried", "container", c.ID, "phase", c.FailedPhase, "attempt", attempt, "actor", actor(p))
	return nil
}

// nextAttempt numbers a retry: one more than the retries recorded so far.
func (s *Engine) nextAttempt(ctx context.Context, id string) (int, error) {
	events, err := s.store.ListEvents(ctx, id, []EventType{EventAction}, 0)
	if err != nil {
		return 0, fmt.Errorf("reading events of %s: %w", id, err)
	}
	n := 1
	for _, e := range events {
		if e.Type == EventAction && e.Data["action"] == "retry" {
			n++
		}
	}
	return n, nil
}

// Cancel stops a pending or running creation. The job stops at its next safe
// point, removes what it created on Proxmox and moves the container to
// cancelled.
func (s *Engine) Cancel(ctx context.Context, p Principal, containerID string) error {
	c, err := s.store.GetContainer(ctx, containerID)
	if err != nil {
		return s.notFound(containerID, err)
	}
	switch c.State {
	case StatePending, StateCreating:
	case StateFailed:
		return Userf(ErrConflict, "the creation of %s already stopped (failed at %s): use Delete or Keep", c.Hostname, c.FailedPhase)
	default:
		return Userf(ErrConflict, "%s is %s: there is no creation to cancel", c.Hostname, c.State)
	}
	if err := s.store.AppendEvent(ctx, &Event{ContainerID: c.ID, Type: EventAction, Message: "cancel requested",
		Actor: actor(p), Data: map[string]any{"action": "cancel"}}); err != nil {
		return fmt.Errorf("cancelling creation of %s: %w", c.Hostname, err)
	}
	if err := s.queue.CancelJob(ctx, c.ID); err != nil {
		return fmt.Errorf("cancelling creation of %s: %w", c.Hostname, err)
	}
	s.log.InfoContext(ctx, "creation cancel requested", "container", c.ID, "actor", actor(p))
	return nil
}

// Keep marks a failed container as kept for debugging: it stays on Proxmox
// and in the records as failed until someone deletes it.
func (s *Engine) Keep(ctx context.Context, p Principal, containerID string) error {
	c, err := s.store.GetContainer(ctx, containerID)
	if err != nil {
		return s.notFound(containerID, err)
	}
	if c.State != StateFailed {
		return Userf(ErrConflict, "%s is %s: only a failed container can be kept for debugging", c.Hostname, c.State)
	}
	if err := s.store.AppendEvent(ctx, &Event{ContainerID: c.ID, Type: EventAction, Phase: c.FailedPhase,
		Message: "kept for debugging", Actor: actor(p), Data: map[string]any{"action": "keep", "kept": true}}); err != nil {
		return fmt.Errorf("keeping %s: %w", c.Hostname, err)
	}
	return nil
}

// Kept reports whether a failed container was marked kept for debugging.
func (s *Engine) Kept(ctx context.Context, containerID string) (bool, error) {
	events, err := s.store.ListEvents(ctx, containerID, []EventType{EventAction}, 0)
	if err != nil {
		return false, fmt.Errorf("reading events of %s: %w", containerID, err)
	}
	kept := false
	for _, e := range events {
		if e.Type == EventAction {
			switch e.Data["action"] {
			case "keep":
				kept = true
			case "retry":
				kept = false
			}
		}
	}
	return kept, nil
}

// Subscribe streams a container's progress events after the event id after
// ("" = from the start), in order. The channel closes when ctx ends or the
// job attempt reaches a terminal event.
func (s *Engine) Subscribe(ctx context.Context, containerID string, after string) (<-chan ProgressEvent, error) {
	ch, err := s.bus.Subscribe(ctx, containerID, after)
	if err != nil {
		return nil, fmt.Errorf("subscribing to progress of %s: %w", containerID, err)
	}
	return ch, nil
}

// Container resolves ref: a container id, a hostname or a VMID.
func (s *Engine) Container(ctx context.Context, ref string) (*Container, error) {
	c, err := s.store.GetContainer(ctx, ref)
	if err == nil {
		return &c, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("looking up container %q: %w", ref, err)
	}
	c, err = s.store.FindContainer(ctx, ref)
	if err != nil {
		return nil, s.notFound(ref, err)
	}
	return &c, nil
}

func (s *Engine) notFound(ref string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return Userf(ErrNotFound, "no container %q: use a hostname or VMID from /lxc list", ref)
	}
	return fmt.Errorf("looking up container %q: %w", ref, err)
}
