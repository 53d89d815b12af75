package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// auditBatcher takes audit entries off the acknowledgement's path: Add
// queues an entry and returns, and one writer records queued entries
// together, in one transaction, once a batch is full or a short interval
// after its first entry. Nothing is dropped: when the queue is full, Add
// writes its entry itself, with a batch taken from the queue (so a burst
// costs one commit per batch, not per entry); after close, it writes its
// entry alone. flush writes everything queued so far (audit reads and tests
// call it); close does the same and stops the writer.
//
// An entry is durable a few milliseconds after its command was answered,
// not before: a crash in that window loses the entries queued in it.
type auditBatcher struct {
	writeMany func(ctx context.Context, es []*provision.AuditEntry) error
	writeOne  func(ctx context.Context, e *provision.AuditEntry) error
	log       *slog.Logger
	maxBatch  int
	interval  time.Duration

	start   sync.Once
	queue   chan *provision.AuditEntry
	flushes chan chan struct{}
	mu      sync.RWMutex // held for reading while queueing; for writing by close
	closed  bool
	// inline is held for reading by an Add writing a batch itself, so that
	// flush can wait for the entries it took from the queue.
	inline sync.RWMutex
	quit   chan struct{}
	done   chan struct{}
}

// auditWriteTimeout bounds one write of queued entries: the request that
// produced them may be long gone, so it is not their context.
const auditWriteTimeout = 10 * time.Second

func newAuditBatcher(writeMany func(context.Context, []*provision.AuditEntry) error,
	writeOne func(context.Context, *provision.AuditEntry) error, interval time.Duration, log *slog.Logger) *auditBatcher {
	const maxBatch = 128
	return &auditBatcher{writeMany: writeMany, writeOne: writeOne, log: log, maxBatch: maxBatch, interval: interval,
		queue: make(chan *provision.AuditEntry, 4*maxBatch), flushes: make(chan chan struct{}),
		quit: make(chan struct{}), done: make(chan struct{})}
}

// Add queues e, or writes it at once when the queue is full or closed.
// The caller must not touch e afterwards.
func (q *auditBatcher) Add(ctx context.Context, e *provision.AuditEntry) error {
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return q.writeOne(ctx, e)
	}
	q.start.Do(func() { go q.run() })
	select {
	case q.queue <- e:
		q.mu.RUnlock()
		return nil
	default:
	}
	// The writer is behind: write e now, with what waits in front of it.
	q.inline.RLock()
	q.mu.RUnlock()
	defer q.inline.RUnlock()
	batch := []*provision.AuditEntry{e}
	for len(batch) < q.maxBatch {
		select {
		case x := <-q.queue:
			batch = append(batch, x)
			continue
		default:
		}
		break
	}
	q.write(batch)
	return nil
}

// flush returns once every entry queued before it was called is written
// (or its write failed and was logged).
func (q *auditBatcher) flush(ctx context.Context) error {
	q.mu.RLock()
	running := !q.closed
	if running {
		q.start.Do(func() { go q.run() })
	}
	q.mu.RUnlock()
	if !running {
		return nil // close wrote everything
	}
	ack := make(chan struct{})
	select {
	case q.flushes <- ack:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Entries an Add took from the queue to write itself.
	q.inline.Lock()
	//lint:ignore SA2001 taking the write lock waits for every inline writer to finish, which is the point
	q.inline.Unlock()
	return nil
}

// close writes what is queued and stops the writer; later entries are
// written as they come.
func (q *auditBatcher) close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	started := true
	q.start.Do(func() { started = false })
	if !started {
		return nil
	}
	close(q.quit)
	select {
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	q.inline.Lock()
	//lint:ignore SA2001 taking the write lock waits for every inline writer to finish, which is the point
	q.inline.Unlock()
	return nil
}

func (q *auditBatcher) run() {
	defer close(q.done)
	batch := make([]*provision.AuditEntry, 0, q.maxBatch)
	timer := time.NewTimer(q.interval)
	timer.Stop()
	// drain moves what is queued into batch, writing whenever it fills.
	drain := func() {
		for {
			select {
			case e := <-q.queue:
				batch = append(batch, e)
				if len(batch) == q.maxBatch {
					batch = q.write(batch)
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case e := <-q.queue:
			if len(batch) == 0 {
				timer.Reset(q.interval)
			}
			batch = append(batch, e)
			if len(batch) == q.maxBatch {
				batch = q.write(batch)
				timer.Stop()
			}
		case <-timer.C:
			batch = q.write(batch)
		case ack := <-q.flushes:
			drain()
			batch = q.write(batch)
			timer.Stop()
			close(ack)
		case <-q.quit:
			// Add no longer queues: what is in the queue is all there is.
			drain()
			q.write(batch)
			timer.Stop()
			return
		}
	}
}

// write records batch and returns it emptied. When the batch as a whole is
// refused, each entry is tried on its own, so one bad entry costs only
// itself; failures are logged, as the synchronous write logged them.
func (q *auditBatcher) write(batch []*provision.AuditEntry) []*provision.AuditEntry {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditWriteTimeout)
	defer cancel()
	if err := q.writeMany(ctx, batch); err != nil {
		for _, e := range batch {
			if err := q.writeOne(ctx, e); err != nil {
				q.log.ErrorContext(ctx, "writing audit entry", "err", err, "command", e.Command,
					"actor", string(e.Actor.Platform)+":"+e.Actor.UserID)
			}
		}
	}
	clear(batch)
	return batch[:0]
}
