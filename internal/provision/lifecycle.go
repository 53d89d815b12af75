package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Action is a power or delete action on a container.
type Action string

// Lifecycle actions.
const (
	ActionStart    Action = "start"
	ActionStop     Action = "stop"     // forced
	ActionShutdown Action = "shutdown" // graceful, then forced after the timeout
	ActionRestart  Action = "restart"  // reboot, falling back to stop + start
	ActionDelete   Action = "delete"   // stop if running, destroy with purge
)

// Destructive reports whether the chat layer must ask for confirmation.
func (a Action) Destructive() bool { return a != ActionStart }

// ContainerLockKey is the Locker key that serialises everything done to one
// container: lifecycle actions and the creation job (which takes the same
// key), so an action never runs while the container is being created.
func ContainerLockKey(containerID string) string { return "container:" + containerID }

// ActionResult says what a lifecycle action did.
type ActionResult struct {
	Action    Action
	Container Container // the record after the action
	// Outcome is one sentence for the user: "shut down gracefully",
	// "forced stop: it did not shut down within 30s".
	Outcome string
	// Forced: a shutdown ran out of time and the container was stopped.
	Forced bool
	// Fallback: a reboot failed and the container was stopped and started.
	Fallback bool
	// Noop: nothing had to be done (already running, already gone, ...).
	Noop     bool
	Duration time.Duration
}

// LifecycleStore is what lifecycle actions need from the system of record.
type LifecycleStore interface {
	GetContainer(ctx context.Context, id string) (Container, error)
	FindContainer(ctx context.Context, ref string) (Container, error)
	TransitionContainer(ctx context.Context, id string, from []State, to State) error
	AppendEvent(ctx context.Context, e *Event) error
}

// LifecycleConfig tunes lifecycle actions. Zero values take the defaults.
type LifecycleConfig struct {
	// ShutdownTimeout is how long a graceful shutdown may take before the
	// container is stopped (default 30s).
	ShutdownTimeout time.Duration
	// LockTTL is the expiry of the per-container lock while an action runs
	// (default 5m; it must outlast the slowest action).
	LockTTL time.Duration
}

// LifecycleDeps are Lifecycle's collaborators.
type LifecycleDeps struct {
	Store    LifecycleStore
	Nodes    NodeAPIs
	Locker   Locker
	Notifier Notifier     // nil = no team notifications
	Clock    Clock        // nil = SystemClock
	Log      *slog.Logger // nil = discard
	Config   LifecycleConfig
}

// Lifecycle runs start, stop, shutdown, restart and delete under the
// per-container lock. It does not authorise: callers check roles and
// ownership first.
type Lifecycle struct {
	store    LifecycleStore
	nodes    NodeAPIs
	locker   Locker
	notifier Notifier
	clock    Clock
	log      *slog.Logger
	cfg      LifecycleConfig
}

// NewLifecycle builds a Lifecycle.
func NewLifecycle(d LifecycleDeps) *Lifecycle {
	l := &Lifecycle{store: d.Store, nodes: d.Nodes, locker: d.Locker, notifier: d.Notifier,
		clock: d.Clock, log: d.Log, cfg: d.Config}
	if l.clock == nil {
		l.clock = SystemClock{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.cfg.ShutdownTimeout <= 0 {
		l.cfg.ShutdownTimeout = 30 * time.Second
	}
	if l.cfg.LockTTL <= 0 {
		l.cfg.LockTTL = 5 * time.Minute
	}
	return l
}

// resolveContainerRef finds a container by id, hostname or VMID; an unknown
// ref is a UserError.
func resolveContainerRef(ctx context.Context, st interface {
	GetContainer(ctx context.Context, id string) (Container, error)
	FindContainer(ctx context.Context, ref string) (Container, error)
}, ref string) (Container, error) {
	c, err := st.GetContainer(ctx, ref)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Container{}, fmt.Errorf("looking up container %q: %w", ref, err)
	}
	c, err = st.FindContainer(ctx, ref)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, ErrNotFound):
		return Container{}, Userf(ErrNotFound, "no container %q: use a hostname or VMID from /lxc list", ref)
	case errors.Is(err, ErrConflict):
		return Container{}, Userf(ErrConflict, "%q names more than one container: use the VMID instead", ref)
	}
	return Container{}, fmt.Errorf("looking up container %q: %w", ref, err)
}

// checkActionAllowed says, as a UserError, why action cannot run on c now.
func checkActionAllowed(c *Container, a Action) error {
	switch a {
	case ActionStart, ActionStop, ActionShutdown, ActionRestart, ActionDelete:
	default:
		return Userf(ErrInvalid, "unknown action %q: use start, stop, shutdown, restart or delete", a)
	}
	switch c.State {
	case StateReady:
		return nil
	case StateFailed:
		if c.VMID == 0 {
			if a == ActionDelete {
				return nil
			}
			return Userf(ErrConflict, "%s failed before it was created on Proxmox: there is nothing to %s; delete it to clear the record", c.Hostname, a)
		}
		return nil
	case StatePending, StateCreating:
		return Userf(ErrConflict, "%s is still being created: wait for it to finish, or cancel the creation first", c.Hostname)
	case StateDeleting:
		if a == ActionDelete {
			return nil // finishes an interrupted delete
		}
		return Userf(ErrConflict, "%s is being deleted: delete it again to finish if it seems stuck", c.Hostname)
	case StateCancelled:
		if a == ActionDelete {
			return nil
		}
		return Userf(ErrConflict, "the creation of %s was cancelled: there is no container to %s", c.Hostname, a)
	case StateDeleted:
		return Userf(ErrConflict, "%s was already deleted", c.Hostname)
	case StateGone:
		if a == ActionDelete {
			return nil
		}
		return Userf(ErrConflict, "%s was deleted outside the bot: delete it to clear the record", c.Hostname)
	}
	return Userf(ErrConflict, "%s is %s: %s is not possible now", c.Hostname, c.State, a)
}

// Do runs action a on the container ref names, holding its lock. A lock held
// by someone else is returned as *LockedError (who, what, since when); a
// container in a state that does not allow the action gets a UserError.
// The action is recorded as an event and announced to the team.
func (l *Lifecycle) Do(ctx context.Context, p Principal, ref string, a Action) (*ActionResult, error) {
	c, err := resolveContainerRef(ctx, l.store, ref)
	if err != nil {
		return nil, err
	}
	if err := checkActionAllowed(&c, a); err != nil {
		return nil, err
	}
	lock, err := l.locker.Acquire(ctx, ContainerLockKey(c.ID),
		LockHolder{Who: holderName(p), Action: string(a), Since: l.clock.Now()}, l.cfg.LockTTL)
	if err != nil {
		var locked *LockedError
		if errors.As(err, &locked) {
			return nil, locked
		}
		return nil, fmt.Errorf("%s %s: taking its lock: %w", a, c.Hostname, err)
	}
	defer func() {
		// Release even when ctx ended: a lock left behind blocks everyone
		// until it expires.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lock.Release(rctx); err != nil {
			l.log.WarnContext(ctx, "releasing container lock failed", "container", c.ID, "err", err)
		}
	}()
	// Re-read under the lock: a creation or another action may have changed
	// the container between the first read and the lock.
	if c, err = l.store.GetContainer(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("%s %s: re-reading it: %w", a, ref, err)
	}
	if err := checkActionAllowed(&c, a); err != nil {
		return nil, err
	}

	log := l.log.With("container", c.ID, "hostname", c.Hostname, "action", string(a), "actor", actor(p))
	start := l.clock.Now()
	res, err := l.run(ctx, &c, a)
	dur := l.clock.Now().Sub(start)
	if err != nil {
		log.WarnContext(ctx, "lifecycle action failed", "err", err)
		l.record(ctx, p, &c, a, "error", "failed: "+err.Error(), nil, dur)
		l.notify(ctx, NotifyLifecycle, &c, fmt.Sprintf("%s of %s by %s failed: %v", a, c.Hostname, holderName(p), err))
		return nil, fmt.Errorf("%s %s: %w", a, c.Hostname, err)
	}
	res.Action, res.Duration = a, dur
	if fresh, err := l.store.GetContainer(ctx, c.ID); err == nil {
		c = fresh
	}
	res.Container = c
	log.InfoContext(ctx, "lifecycle action done", "outcome", res.Outcome, "duration", dur)
	l.record(ctx, p, &c, a, "ok", res.Outcome, map[string]any{"forced": res.Forced, "fallback": res.Fallback, "noop": res.Noop}, dur)
	kind := NotifyLifecycle
	if a == ActionDelete {
		kind = NotifyDeleted
	}
	l.notify(ctx, kind, &c, fmt.Sprintf("%s (%s) by %s: %s", c.Hostname, a, holderName(p), res.Outcome))
	return res, nil
}

func holderName(p Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return actor(p)
}

func (l *Lifecycle) run(ctx context.Context, c *Container, a Action) (*ActionResult, error) {
	if a == ActionDelete {
		return l.delete(ctx, c)
	}
	api, err := l.nodes.NodeAPI(ctx, c.NodeName)
	if err != nil {
		return nil, fmt.Errorf("connecting to node %s: %w", c.NodeName, err)
	}
	st, err := api.GuestStatus(ctx, c.NodeName, c.VMID)
	if errors.Is(err, ErrNotFound) {
		return nil, Userf(ErrNotFound, "CT %d no longer exists on %s (deleted outside the bot?): delete it to clear the record", c.VMID, c.NodeName)
	}
	if err != nil {
		return nil, fmt.Errorf("reading its status: %w", err)
	}
	running := st.Status == StatusRunning
	switch a {
	case ActionStart:
		if running {
			return &ActionResult{Outcome: "already running", Noop: true}, nil
		}
		if err := api.Start(ctx, c.NodeName, c.VMID); err != nil {
			return nil, fmt.Errorf("starting: %w", err)
		}
		return &ActionResult{Outcome: "started"}, nil
	case ActionStop:
		if !running {
			return &ActionResult{Outcome: "already stopped", Noop: true}, nil
		}
		if err := api.Stop(ctx, c.NodeName, c.VMID); err != nil {
			return nil, fmt.Errorf("stopping: %w", err)
		}
		return &ActionResult{Outcome: "stopped (forced)"}, nil
	case ActionShutdown:
		if !running {
			return &ActionResult{Outcome: "already stopped", Noop: true}, nil
		}
		return l.shutdown(ctx, api, c)
	case ActionRestart:
		if !running {
			if err := api.Start(ctx, c.NodeName, c.VMID); err != nil {
				return nil, fmt.Errorf("starting: %w", err)
			}
			return &ActionResult{Outcome: "was stopped: started"}, nil
		}
		rebootErr := api.Reboot(ctx, c.NodeName, c.VMID)
		if rebootErr == nil {
			return &ActionResult{Outcome: "rebooted"}, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rebooting: %w", rebootErr)
		}
		l.log.InfoContext(ctx, "reboot failed, stopping and starting", "container", c.ID, "err", rebootErr)
		if err := l.ensureStopped(ctx, api, c); err != nil {
			return nil, fmt.Errorf("reboot failed (%v), then stopping: %w", rebootErr, err)
		}
		if err := api.Start(ctx, c.NodeName, c.VMID); err != nil {
			return nil, fmt.Errorf("reboot failed (%v), stopped, then starting: %w", rebootErr, err)
		}
		return &ActionResult{Outcome: "reboot failed: stopped and started instead", Fallback: true}, nil
	}
	return nil, Userf(ErrInvalid, "unknown action %q", a)
}

func (l *Lifecycle) shutdown(ctx context.Context, api PowerAPI, c *Container) (*ActionResult, error) {
	timeout := l.cfg.ShutdownTimeout
	shutErr := api.Shutdown(ctx, c.NodeName, c.VMID, timeout, false)
	if shutErr != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("shutting down: %w", shutErr)
	}
	// Whatever the task said, the status decides: a shutdown that timed out
	// leaves the container running.
	st, err := api.GuestStatus(ctx, c.NodeName, c.VMID)
	if err != nil {
		return nil, fmt.Errorf("reading status after shutdown: %w", err)
	}
	if st.Status != StatusRunning {
		return &ActionResult{Outcome: "shut down gracefully"}, nil
	}
	if err := api.Stop(ctx, c.NodeName, c.VMID); err != nil {
		return nil, fmt.Errorf("forcing stop after the shutdown timed out: %w", err)
	}
	return &ActionResult{Outcome: fmt.Sprintf("did not shut down within %s: forced stop", timeout), Forced: true}, nil
}

// ensureStopped stops the container unless it is already stopped.
func (l *Lifecycle) ensureStopped(ctx context.Context, api PowerAPI, c *Container) error {
	st, err := api.GuestStatus(ctx, c.NodeName, c.VMID)
	if err != nil {
		return err
	}
	if st.Status != StatusRunning {
		return nil
	}
	return api.Stop(ctx, c.NodeName, c.VMID)
}

func (l *Lifecycle) delete(ctx context.Context, c *Container) (*ActionResult, error) {
	if c.State != StateDeleting {
		if err := l.store.TransitionContainer(ctx, c.ID, []State{c.State}, StateDeleting); err != nil {
			if errors.Is(err, ErrConflict) {
				return nil, Userf(ErrConflict, "%s changed meanwhile: look at it again before deleting", c.Hostname)
			}
			return nil, fmt.Errorf("recording the delete: %w", err)
		}
		c.State = StateDeleting
	}
	noop := false
	outcome := "deleted"
	if c.VMID == 0 {
		noop, outcome = true, "record removed (it was never created on Proxmox)"
	} else {
		api, err := l.nodes.NodeAPI(ctx, c.NodeName)
		if err != nil {
			return nil, fmt.Errorf("connecting to node %s: %w", c.NodeName, err)
		}
		err = l.ensureStopped(ctx, api, c)
		if err == nil {
			err = api.Delete(ctx, c.NodeName, c.VMID)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			noop, outcome = true, fmt.Sprintf("CT %d was already gone from %s: record removed", c.VMID, c.NodeName)
		case err != nil:
			return nil, fmt.Errorf("destroying CT %d on %s (it stays in state deleting; delete again to retry): %w", c.VMID, c.NodeName, err)
		}
	}
	// Reaching deleted releases the VMID reservation and frees the hostname.
	if err := l.store.TransitionContainer(ctx, c.ID, []State{StateDeleting}, StateDeleted); err != nil {
		return nil, fmt.Errorf("recording the delete: %w", err)
	}
	return &ActionResult{Outcome: outcome, Noop: noop}, nil
}

// record stores the action on the container's timeline. A failure to record
// is logged, not returned: the action itself already happened.
func (l *Lifecycle) record(ctx context.Context, p Principal, c *Container, a Action, outcome, msg string, data map[string]any, dur time.Duration) {
	if data == nil {
		data = map[string]any{}
	}
	data["action"], data["outcome"] = string(a), outcome
	e := &Event{ContainerID: c.ID, Type: EventAction, Message: fmt.Sprintf("%s: %s", a, msg),
		Actor: actor(p), Duration: dur, Data: data}
	if err := l.store.AppendEvent(context.WithoutCancel(ctx), e); err != nil {
		l.log.WarnContext(ctx, "recording lifecycle event failed", "container", c.ID, "err", err)
	}
}

func (l *Lifecycle) notify(ctx context.Context, kind NotificationKind, c *Container, text string) {
	if l.notifier == nil {
		return
	}
	if err := l.notifier.Notify(context.WithoutCancel(ctx), containerNotification(kind, c, text, l.clock.Now())); err != nil {
		l.log.WarnContext(ctx, "team notification failed", "container", c.ID, "kind", string(kind), "err", err)
	}
}
