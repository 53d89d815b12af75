package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// proc is a child server process tied to the life of the test binary.
//
// Pdeathsig fires when the OS thread that started the child exits, not when
// the process does, so each child is started from a goroutine that locks its
// thread and stays blocked in Wait for the child's whole life. If the test
// binary dies (even by SIGKILL), that thread dies with it and the kernel
// signals the child.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(cmd *exec.Cmd, deathSig syscall.Signal) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	cmd.SysProcAttr.Setpgid = true
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread must end with this goroutine.
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return p, nil
}

// Pid returns the child's process id.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to grace, then kills the process group.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("process did not exit after SIGKILL")
	}
}

// waitFor polls cond until it holds, the process exits or the deadline passes.
func (p *proc) waitFor(what string, deadline time.Duration, cond func() bool) error {
	end := time.Now().Add(deadline)
	for {
		if cond() {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s: server exited before it was ready: %v", what, p.err)
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: not ready after %s", what, deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mkdirShared(prefix string) (string, error) {
	// os.MkdirTemp, not t.TempDir: the latter makes 0700 parents that the
	// postgres user cannot enter.
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	return dir, nil
}
