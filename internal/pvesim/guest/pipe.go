package guest

import (
	"errors"
	"io"
	"sync"
)

// pipeCapacity matches a Linux pipe buffer: a writer finishes without
// waiting when its output fits, so `small | head -c 5` does not fail the
// writer the way an unbuffered pipe would.
const pipeCapacity = 64 << 10

var errBrokenPipe = errors.New("broken pipe")

// bufPipe is an in-memory pipe with a bounded buffer.
type bufPipe struct {
	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte
	wClosed bool
	rClosed bool
}

func newBufPipe() *bufPipe {
	p := &bufPipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *bufPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for len(b) > 0 {
		if p.rClosed {
			return n, errBrokenPipe
		}
		if p.wClosed {
			return n, io.ErrClosedPipe
		}
		room := pipeCapacity - len(p.buf)
		if room == 0 {
			p.cond.Wait()
			continue
		}
		k := min(room, len(b))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		n += k
		p.cond.Broadcast()
	}
	return n, nil
}

func (p *bufPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 {
		if p.wClosed || p.rClosed {
			return 0, io.EOF
		}
		p.cond.Wait()
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	p.cond.Broadcast()
	return n, nil
}

// closeWrite signals end of input to the reader.
func (p *bufPipe) closeWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wClosed = true
	p.cond.Broadcast()
}

// closeRead makes further writes fail, like SIGPIPE/EPIPE.
func (p *bufPipe) closeRead() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rClosed = true
	p.buf = nil
	p.cond.Broadcast()
}
