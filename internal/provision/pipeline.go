package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Errors a creation job ends with that a queue retry cannot fix.
var (
	// ErrJobFailed: the job failed and the container is recorded as failed;
	// the user retries it explicitly.
	ErrJobFailed = errors.New("creation failed")
	// ErrJobCancelled: the job was cancelled.
	ErrJobCancelled = errors.New("creation cancelled")
	// ErrLockLost: the job lost its container lock (it expired while the
	// worker was stalled); another worker may be running it.
	ErrLockLost = fmt.Errorf("container lock lost: %w", ErrConflict)
)

// Job identifies one run of a creation job.
type Job struct {
	ContainerID string
	Attempt     int
	// FinalTry says the queue will not run this job again if it fails, so a
	// transient failure must be recorded as failed.
	FinalTry bool
}

// permanentError marks a failure that a queue retry cannot fix (a script
// exited non-zero, input is wrong): the container is failed at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err: err} }

func permanentf(format string, args ...any) error {
	return &permanentError{err: fmt.Errorf(format, args...)}
}

// phaseError is a failure inside one phase.
type phaseError struct {
	phase Phase
	err   error
}

func (e *phaseError) Error() string { return fmt.Sprintf("%s: %v", e.phase, e.err) }
func (e *phaseError) Unwrap() error { return e.err }

// transient reports whether a queue retry may fix err.
func transient(err error) bool {
	var pe *permanentError
	var ue *UserError
	var ie *NodeIdentityError
	var ae *NodeAccessError
	if errors.As(err, &pe) || errors.As(err, &ue) || errors.As(err, &ie) || errors.As(err, &ae) {
		return false
	}
	var le *LockedError
	return errors.Is(err, ErrUnavailable) || errors.As(err, &le) || errors.Is(err, ErrLockLost) ||
		errors.Is(err, context.Canceled)
}

// RunCreate runs (or resumes) the creation pipeline for one container. Phases
// already recorded as completed are skipped. Errors wrapping ErrJobFailed or
// ErrJobCancelled are final; others may be retried by the queue.
func (s *Engine) RunCreate(ctx context.Context, job Job) error {
	log := s.log.With("container", job.ContainerID, "job", fmt.Sprintf("%s#%d", job.ContainerID, job.Attempt))
	c, err := s.store.GetContainer(ctx, job.ContainerID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("running creation of %s: %w: %w", job.ContainerID, ErrJobFailed, err)
	}
	if err != nil {
		return fmt.Errorf("running creation of %s: %w", job.ContainerID, err)
	}
	if c.State != StatePending && c.State != StateCreating {
		// A stale or duplicate delivery: the job already ended.
		log.InfoContext(ctx, "creation job has nothing to do", "state", c.State)
		return nil
	}

	lock, err := s.locker.Acquire(ctx, "container:"+c.ID, LockHolder{Who: "lxcbot", Action: "create", Since: s.clock.Now()}, s.cfg.LockTTL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", c.Hostname, err)
	}
	jobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var refresher sync.WaitGroup
	refresher.Add(1)
	go func() {
		defer refresher.Done()
		s.keepLock(jobCtx, lock, cancel, log)
	}()
	defer func() {
		cancel(nil)
		refresher.Wait()
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			log.WarnContext(ctx, "releasing container lock", "err", err)
		}
	}()

	// Re-read under the lock: another worker may have moved it meanwhile.
	if c, err = s.store.GetContainer(jobCtx, c.ID); err != nil {
		return fmt.Errorf("running creation of %s: %w", job.ContainerID, err)
	}
	if c.State != StatePending && c.State != StateCreating {
		return nil
	}
	if err := s.store.TransitionContainer(jobCtx, c.ID, []State{StatePending, StateCreating}, StateCreating); err != nil {
		return fmt.Errorf("creating %s: %w", c.Hostname, err)
	}
	c.State = StateCreating

	r := newRun(s, &c, job, log)
	runErr := r.execute(jobCtx)
	return r.finish(ctx, jobCtx, runErr)
}

// keepLock refreshes the job's lock until ctx ends; losing it stops the job.
func (s *Engine) keepLock(ctx context.Context, lock Lock, cancel context.CancelCauseFunc, log *slog.Logger) {
	t := time.NewTicker(s.cfg.LockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := lock.Refresh(ctx, s.cfg.LockTTL); err != nil {
				if ctx.Err() != nil {
					return
				}
				log.ErrorContext(ctx, "container lock lost; stopping the job", "err", err)
				cancel(ErrLockLost)
				return
			}
		}
	}
}

// finish turns the outcome of a run into the container's state and the
// queue's verdict.
func (r *run) finish(ctx, jobCtx context.Context, runErr error) error {
	if runErr == nil {
		return nil
	}
	bg := context.WithoutCancel(ctx)
	cancelled := errors.Is(runErr, ErrJobCancelled)
	if !cancelled && jobCtx.Err() != nil {
		if ok, err := r.s.queue.CancelRequested(bg, r.c.ID); err == nil && ok {
			cancelled = true
		}
	}
	if cancelled {
		r.s.observeJob("cancelled")
		return r.cancelled(bg)
	}
	if cause := context.Cause(jobCtx); jobCtx.Err() != nil {
		// The worker is shutting down or lost its lock: leave the container
		// creating so the next delivery resumes it.
		r.log.WarnContext(bg, "creation interrupted; it will resume", "cause", cause)
		r.publish(bg, ProgressEvent{Type: ProgressWarning, Phase: r.phase,
			Message: "the worker stopped; the job will resume where it left off"})
		return fmt.Errorf("creating %s: interrupted in %s: %w", r.c.Hostname, r.phase, cause)
	}
	phase := r.phase
	var pe *phaseError
	if errors.As(runErr, &pe) {
		phase = pe.phase
	}
	msg := r.mask.Mask(runErr.Error())
	if transient(runErr) && !r.job.FinalTry {
		r.log.WarnContext(bg, "creation hit a temporary problem; the queue retries it", "phase", phase, "err", msg)
		r.publish(bg, ProgressEvent{Type: ProgressWarning, Phase: phase, Message: "temporary problem, retrying: " + msg})
		return fmt.Errorf("creating %s: %s", r.c.Hostname, msg)
	}
	r.s.observeJob("failed")
	return r.failed(bg, phase, msg)
}

// observePhase records one phase run that started at start.
func (s *Engine) observePhase(ph Phase, outcome string, start time.Time) {
	if s.m == nil {
		return
	}
	s.m.PhaseDuration.WithLabelValues(string(ph)).Observe(time.Since(start).Seconds())
	s.m.PhaseOutcomes.WithLabelValues(string(ph), outcome).Inc()
}

// observeJob records a creation job that ended (ready, failed, cancelled).
func (s *Engine) observeJob(outcome string) {
	if s.m != nil {
		s.m.JobOutcomes.WithLabelValues(outcome).Inc()
	}
}

// failed records the container as failed at phase.
func (r *run) failed(ctx context.Context, phase Phase, msg string) error {
	r.log.WarnContext(ctx, "creation failed", "phase", phase, "err", msg)
	tail := r.tail.Lines()
	if err := r.s.store.FailContainer(ctx, r.c.ID, phase, msg); err != nil {
		r.log.ErrorContext(ctx, "recording failure", "err", err)
	}
	if err := r.s.store.AppendEvent(ctx, &Event{ContainerID: r.c.ID, Type: EventError, Phase: phase, Message: msg,
		Actor: "system", Data: map[string]any{"lines": tail, "attempt": r.job.Attempt}}); err != nil {
		r.log.ErrorContext(ctx, "recording failure event", "err", err)
	}
	// Announce before publishing the terminal event, so whoever sees the job
	// end can rely on the team having been told.
	r.teamNotify(ctx, NotifyFailed, fmt.Sprintf("🔴 Creating %s failed at %s: %s", r.c.Hostname, phase, msg))
	r.publish(ctx, ProgressEvent{Type: ProgressFailed, Phase: phase, Message: msg, Lines: tail})
	return fmt.Errorf("creating %s: %w: %s", r.c.Hostname, ErrJobFailed, msg)
}

// cancelled removes what the job built on Proxmox and records the container
// as cancelled (which releases its VMID).
func (r *run) cancelled(ctx context.Context) error {
	r.log.InfoContext(ctx, "creation cancelled", "phase", r.phase)
	cleanCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	msg := "creation cancelled"
	if r.c.VMID != 0 && (r.c.HasPhase(PhaseCreate) || r.phase == PhaseCreate) {
		if err := r.destroy(cleanCtx); err != nil {
			msg = fmt.Sprintf("creation cancelled; removing CT %d on %s failed: %s", r.c.VMID, r.c.NodeName, r.mask.Mask(err.Error()))
			r.log.WarnContext(ctx, "removing cancelled container", "err", err)
		} else {
			msg = fmt.Sprintf("creation cancelled; CT %d removed from %s", r.c.VMID, r.c.NodeName)
		}
	}
	if err := r.s.store.TransitionContainer(ctx, r.c.ID, []State{StatePending, StateCreating}, StateCancelled); err != nil {
		r.log.ErrorContext(ctx, "recording cancellation", "err", err)
	}
	if err := r.s.store.AppendEvent(ctx, &Event{ContainerID: r.c.ID, Type: EventAction, Phase: r.phase, Message: msg,
		Actor: "system", Data: map[string]any{"action": "cancelled"}}); err != nil {
		r.log.ErrorContext(ctx, "recording cancellation event", "err", err)
	}
	r.publish(ctx, ProgressEvent{Type: ProgressCancelled, Phase: r.phase, Message: msg})
	return fmt.Errorf("creating %s: %w", r.c.Hostname, ErrJobCancelled)
}

func (r *run) destroy(ctx context.Context) error {
	pve, err := r.s.nodes.Proxmox(ctx, r.c.NodeName)
	if err != nil {
		return err
	}
	// Only remove a container that carries our marker: the VMID may have
	// been another's when creation did not get that far.
	desc, err := pve.Description(ctx, r.c.NodeName, r.c.VMID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !hasMarker(desc, r.c.ID) {
		return nil
	}
	return pve.Destroy(ctx, r.c.NodeName, r.c.VMID)
}

// execute runs the phases not yet completed, in order.
func (r *run) execute(ctx context.Context) error {
	if err := r.prepare(ctx); err != nil {
		return err
	}
	for _, ph := range Phases {
		if r.c.HasPhase(ph) {
			continue
		}
		r.phase = ph
		if err := r.checkCancel(ctx); err != nil {
			return err
		}
		start, wall := r.s.clock.Now(), time.Now()
		r.publish(ctx, ProgressEvent{Type: ProgressPhaseStarted, Phase: ph, Percent: PhasePercent(ph, 0)})
		r.event(ctx, &Event{Type: EventPhaseStarted, Phase: ph, Message: string(ph) + " started"})
		pctx, cancel := context.WithTimeout(ctx, r.s.cfg.phaseTimeout(ph))
		err := r.runPhase(pctx, ph)
		if err == nil {
			err = r.checkCancel(ctx) // a cancel during the phase wins over its result
		}
		if err != nil && pctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = permanentf("%s did not finish within %s: %w", ph, r.s.cfg.phaseTimeout(ph), err)
		}
		cancel()
		if err != nil {
			if errors.Is(err, ErrJobCancelled) {
				r.s.observePhase(ph, "cancelled", wall)
				return err
			}
			r.s.observePhase(ph, "failed", wall)
			return &phaseError{phase: ph, err: err}
		}
		r.s.observePhase(ph, "ok", wall)
		if err := r.s.store.CompletePhase(ctx, r.c.ID, ph); err != nil {
			return &phaseError{phase: ph, err: err}
		}
		r.c.CompletedPhases = append(r.c.CompletedPhases, ph)
		d := r.s.clock.Now().Sub(start)
		r.event(ctx, &Event{Type: EventPhaseFinished, Phase: ph, Message: string(ph) + " finished", Duration: d})
		r.publish(ctx, ProgressEvent{Type: ProgressPhaseFinished, Phase: ph, Percent: PhasePercent(ph, 1), Duration: d})
	}
	// Counted before the terminal event goes out, so whoever sees it sees
	// the count.
	r.s.observeJob("ready")
	r.publish(ctx, ProgressEvent{Type: ProgressReady, Phase: PhaseReady, Percent: 100,
		Message: fmt.Sprintf("%s is ready", r.c.Hostname)})
	r.log.InfoContext(ctx, "container ready", "vmid", r.c.VMID, "node", r.c.NodeName, "ip", r.c.IP)
	return nil
}

// prepare loads what every phase needs: the template and the buckets.
func (r *run) prepare(ctx context.Context) error {
	tpl, err := r.s.store.GetTemplate(ctx, r.c.TemplateName)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = permanentf("template %s no longer exists", r.c.TemplateName)
		}
		return &phaseError{phase: r.firstPending(), err: err}
	}
	r.tpl = tpl
	for _, name := range r.c.Request.Buckets {
		b, err := r.s.store.GetBucket(ctx, name)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				err = permanentf("package bucket %s no longer exists", name)
			}
			return &phaseError{phase: r.firstPending(), err: err}
		}
		r.buckets = append(r.buckets, b)
	}
	r.scripts = enabledScripts(tpl, r.c.Request.SkipScripts)
	return nil
}

func (r *run) firstPending() Phase {
	for _, p := range Phases {
		if !r.c.HasPhase(p) {
			return p
		}
	}
	return PhaseReady
}

func (r *run) runPhase(ctx context.Context, ph Phase) error {
	switch ph {
	case PhaseReserve:
		return r.reserve(ctx)
	case PhaseCreate:
		return r.create(ctx)
	case PhaseStart:
		return r.start(ctx)
	case PhaseNetwork:
		return r.network(ctx)
	case PhaseDeploy:
		return r.deploy(ctx)
	case PhasePackages:
		return r.packages(ctx)
	case PhaseScripts:
		return r.runScripts(ctx)
	case PhaseDiscover:
		return r.discover(ctx)
	case PhaseReady:
		return r.ready(ctx)
	}
	return permanentf("unknown phase %s", ph)
}

// checkCancel stops the job at a safe point when a cancel was requested.
func (r *run) checkCancel(ctx context.Context) error {
	ok, err := r.s.queue.CancelRequested(ctx, r.c.ID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.WarnContext(ctx, "checking for a cancel request", "err", err)
		return nil
	}
	if ok {
		return ErrJobCancelled
	}
	return nil
}

func (r *run) ready(ctx context.Context) error {
	if err := r.s.store.TransitionContainer(ctx, r.c.ID, []State{StateCreating}, StateReady); err != nil {
		return err
	}
	r.c.State = StateReady
	where := r.c.NodeName
	if r.c.VMID != 0 {
		where = fmt.Sprintf("CT %d on %s", r.c.VMID, r.c.NodeName)
	}
	r.teamNotify(ctx, NotifyCreated, fmt.Sprintf("🟢 %s (%s) is ready: template %s, requested by %s",
		r.c.Hostname, where, r.c.TemplateName, principalName(r.c.Owner)))
	return nil
}

// teamNotify tells the team's notification channel; a failure to notify
// never fails the job. Text is masked like every other output.
func (r *run) teamNotify(ctx context.Context, kind NotificationKind, text string) {
	if r.s.notify == nil {
		return
	}
	n := containerNotification(kind, r.c, r.mask.Mask(text), r.s.clock.Now())
	if err := r.s.notify.Notify(context.WithoutCancel(ctx), n); err != nil {
		r.log.WarnContext(ctx, "team notification failed", "kind", string(kind), "err", err)
	}
}

func principalName(p Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return p.UserID
}

// event stores a timeline entry; the timeline is best effort, progress is
// not blocked by it.
func (r *run) event(ctx context.Context, e *Event) {
	e.ContainerID = r.c.ID
	e.Message = r.mask.Mask(e.Message)
	if e.Actor == "" {
		e.Actor = "system"
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data["attempt"] = r.job.Attempt
	if err := r.s.store.AppendEvent(ctx, e); err != nil {
		r.log.WarnContext(ctx, "recording event", "type", e.Type, "err", err)
	}
}

// publish sends a progress event with the job's context filled in and every
// text masked.
func (r *run) publish(ctx context.Context, e ProgressEvent) {
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.seq++
	e.ContainerID = r.c.ID
	e.Seq = r.seq
	e.Hostname = r.c.Hostname
	e.VMID = r.c.VMID
	e.Node = r.c.NodeName
	e.IP = r.c.IP
	if e.At.IsZero() {
		e.At = r.s.clock.Now()
	}
	if e.Percent == 0 && e.Phase != "" && e.Type != ProgressPhaseStarted {
		e.Percent = r.percent
	}
	if e.Type == ProgressPhaseStarted || e.Type == ProgressPhaseFinished || e.Type == ProgressScriptStarted || e.Type == ProgressScriptFinished {
		r.percent = e.Percent
	}
	e.Message = r.mask.Mask(e.Message)
	e.Line = r.mask.Mask(e.Line)
	for i, l := range e.Lines {
		e.Lines[i] = r.mask.Mask(l)
	}
	if _, err := r.s.bus.Publish(ctx, e); err != nil {
		r.log.WarnContext(ctx, "publishing progress", "type", e.Type, "err", err)
	}
}

// warn records and publishes a warning.
func (r *run) warn(ctx context.Context, msg string) {
	r.event(ctx, &Event{Type: EventWarning, Phase: r.phase, Message: msg})
	r.publish(ctx, ProgressEvent{Type: ProgressWarning, Phase: r.phase, Message: msg})
}

// run is the state of one execution of a creation job.
type run struct {
	s       *Engine
	c       *Container
	job     Job
	log     *slog.Logger
	tpl     Template
	buckets []Bucket
	scripts []TemplateScript
	phase   Phase
	mask    *Masker
	tail    *tailBuffer

	pubMu   sync.Mutex
	seq     int64
	percent int

	pve  Proxmox
	host HostRunner
}

func newRun(s *Engine, c *Container, job Job, log *slog.Logger) *run {
	return &run{
		s:    s,
		c:    c,
		job:  job,
		log:  log,
		mask: NewMasker(),
		tail: newTailBuffer(s.cfg.TailLines),
		// Sequence numbers keep increasing across attempts of one job.
		seq:   s.clock.Now().UnixMicro(),
		phase: PhaseReserve,
	}
}

func (r *run) proxmox(ctx context.Context) (Proxmox, error) {
	if r.pve == nil {
		pve, err := r.s.nodes.Proxmox(ctx, r.c.NodeName)
		if err != nil {
			return nil, fmt.Errorf("connecting to the API of %s: %w", r.c.NodeName, err)
		}
		r.pve = pve
	}
	return r.pve, nil
}

func (r *run) hostRunner(ctx context.Context) (HostRunner, error) {
	if r.host == nil {
		h, err := r.s.nodes.Host(ctx, r.c.NodeName)
		if err != nil {
			return nil, fmt.Errorf("connecting to %s over ssh: %w", r.c.NodeName, err)
		}
		r.host = h
	}
	return r.host, nil
}

// tailBuffer keeps the last n output lines.
type tailBuffer struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (t *tailBuffer) Add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = append(t.lines[:0:0], t.lines[len(t.lines)-t.n:]...)
	}
}

func (t *tailBuffer) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

func (t *tailBuffer) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = nil
}

// marker is the description line that tells the bot a container is its own.
func marker(containerID string) string { return "lxcbot:container=" + containerID }

func hasMarker(desc, containerID string) bool {
	for _, l := range strings.Split(desc, "\n") {
		if strings.TrimSpace(l) == marker(containerID) {
			return true
		}
	}
	return false
}
