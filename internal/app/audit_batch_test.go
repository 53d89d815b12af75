package app

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// auditSink records what an auditBatcher writes; block, when set, holds the
// first batch write until it is closed.
type auditSink struct {
	mu      sync.Mutex
	written []string
	batches int
	block   chan struct{}
	entered chan struct{}
	refuse  string // a command refused by the store
}

func (s *auditSink) many(_ context.Context, es []*provision.AuditEntry) error {
	s.mu.Lock()
	s.batches++
	first, block := s.batches == 1, s.block
	s.mu.Unlock()
	if first && block != nil {
		close(s.entered)
		<-block
	}
	for _, e := range es {
		if e.Command == s.refuse {
			return errors.New("refused")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range es {
		s.written = append(s.written, e.Command)
	}
	return nil
}

func (s *auditSink) one(_ context.Context, e *provision.AuditEntry) error {
	if e.Command == s.refuse {
		return errors.New("refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = append(s.written, e.Command)
	return nil
}

func (s *auditSink) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.written...)
}

func newTestBatcher(s *auditSink) *auditBatcher {
	return newAuditBatcher(s.many, s.one, time.Hour, slog.New(slog.DiscardHandler))
}

func entry(cmd string) *provision.AuditEntry {
	return &provision.AuditEntry{Command: cmd, Outcome: "ok"}
}

// TestAuditBatcherFlushWritesEverythingQueued: entries queued are written
// together by flush, in order, long before the batch interval.
func TestAuditBatcherFlushWritesEverythingQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &auditSink{}
	q := newTestBatcher(s)
	var want []string
	for i := range 10 {
		want = append(want, "c"+strconv.Itoa(i))
		require.NoError(t, q.Add(ctx, entry(want[i])))
	}
	require.NoError(t, q.flush(ctx))
	require.Equal(t, want, s.commands())
	require.Equal(t, 1, s.batches, "one write for the whole batch")
	require.NoError(t, q.close(ctx))
}

// TestAuditBatcherFullQueueWritesInline: while the writer is stuck, a full
// queue does not drop entries: the Add that finds it full writes them
// itself, and returns without waiting for the writer.
func TestAuditBatcherFullQueueWritesInline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &auditSink{block: make(chan struct{}), entered: make(chan struct{})}
	q := newTestBatcher(s)
	q.maxBatch = 2 // the writer takes the first entry and, full, writes it
	require.NoError(t, q.Add(ctx, entry("first")))
	require.NoError(t, q.Add(ctx, entry("second")))
	<-s.entered // the writer is stuck on [first second]
	n := cap(q.queue)
	for i := range n {
		require.NoError(t, q.Add(ctx, entry("queued"+strconv.Itoa(i))))
	}
	require.Len(t, q.queue, n, "the queue is full")
	require.NoError(t, q.Add(ctx, entry("overflow")))
	require.Contains(t, s.commands(), "overflow", "written by Add itself while the writer is stuck")
	close(s.block)
	require.NoError(t, q.close(ctx))
	require.Len(t, s.commands(), n+3, "nothing was lost")
}

// TestAuditBatcherCloseWritesQueuedThenWritesDirectly: close writes what is
// queued; entries after close are written before Add returns.
func TestAuditBatcherCloseWritesQueuedThenWritesDirectly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &auditSink{}
	q := newTestBatcher(s)
	require.NoError(t, q.Add(ctx, entry("before")))
	require.NoError(t, q.close(ctx))
	require.Equal(t, []string{"before"}, s.commands())
	require.NoError(t, q.Add(ctx, entry("after")))
	require.Equal(t, []string{"before", "after"}, s.commands())
	require.NoError(t, q.flush(ctx))
	require.NoError(t, q.close(ctx), "closing twice is harmless")
}

// TestAuditBatcherBadEntryCostsOnlyItself: a batch the store refuses is
// written entry by entry, so the others are kept.
func TestAuditBatcherBadEntryCostsOnlyItself(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &auditSink{refuse: "bad"}
	q := newTestBatcher(s)
	for _, c := range []string{"a", "bad", "b"} {
		require.NoError(t, q.Add(ctx, entry(c)))
	}
	require.NoError(t, q.close(ctx))
	require.Equal(t, []string{"a", "b"}, s.commands())
}
