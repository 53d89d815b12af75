package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
)

// Host gives the server the containers of its node. The cluster implements
// it; a container's running state lives on the Guest.
type Host interface {
	Guest(vmid int) (*guest.Guest, bool)
}

// NodeContainer is one container as pct list shows it.
type NodeContainer struct {
	VMID   int
	Name   string // the container's host name
	Status string // "running" or "stopped"
	Lock   string // empty when unlocked
}

// ContainerLister is an optional Host extension: a Host that lists the
// node's containers makes pct list work. Without it pct list fails as
// unsupported.
type ContainerLister interface {
	Containers() []NodeContainer
}

// The Proxmox VE release the node runs, as pveversion prints it; the same
// release the simulated API reports. The kernel is the guests' kernel.
const (
	PVEManagerVersion = "8.4.14"
	PVERepoID         = "b502d23c55afcba1"
)

// Credential is what one user may log in with.
type Credential struct {
	Password       string
	AuthorizedKeys []ssh.PublicKey
}

// Config configures one node's SSH server.
type Config struct {
	Node    string
	HostKey ssh.Signer // nil: a fresh ed25519 key
	Users   map[string]Credential
	Host    Host
	Logger  *slog.Logger
	// MaxSessions bounds concurrently running commands; 0 means 64.
	MaxSessions int
}

// Record is one exec request the server handled.
type Record struct {
	User       string
	Command    string
	ExitStatus int
}

// maxRecords bounds the exec history kept per node.
const maxRecords = 10000

// Server is a node's SSH endpoint: exec requests run `pct` and a few
// file commands against the node's containers and staging directory.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ssh     *ssh.ServerConfig
	hostKey ssh.Signer
	sem     chan struct{}
	staging *stagingFS

	mu      sync.Mutex
	records []Record
}

// New builds a server; it generates an ed25519 host key when none is given.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 64
	}
	if cfg.Host == nil {
		return nil, errors.New("creating ssh server: no host given")
	}
	signer := cfg.HostKey
	if signer == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("creating ssh server: generating host key: %w", err)
		}
		if signer, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("creating ssh server: wrapping host key: %w", err)
		}
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("node", cfg.Node, "component", "sshd"),
		hostKey: signer,
		sem:     make(chan struct{}, cfg.MaxSessions),
		staging: newStagingFS(),
	}
	s.ssh = &ssh.ServerConfig{
		PasswordCallback:  s.checkPassword,
		PublicKeyCallback: s.checkKey,
		ServerVersion:     "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
	}
	s.ssh.AddHostKey(signer)
	return s, nil
}

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// HostKeyFingerprint returns the host key's "SHA256:..." fingerprint.
func (s *Server) HostKeyFingerprint() string { return ssh.FingerprintSHA256(s.hostKey.PublicKey()) }

// Records returns every exec request handled so far, oldest first.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// StagedFile returns a file from the node's staging area (/tmp,
// /var/lib/lxcbot), for tests.
func (s *Server) StagedFile(path string) ([]byte, bool) { return s.staging.read(path) }

func (s *Server) record(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) >= maxRecords {
		s.records = append(s.records[:0], s.records[len(s.records)-maxRecords/2:]...)
	}
	s.records = append(s.records, r)
}

func (s *Server) checkPassword(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
	cred, ok := s.cfg.Users[meta.User()]
	if ok && cred.Password != "" && subtle.ConstantTimeCompare([]byte(cred.Password), pw) == 1 {
		return &ssh.Permissions{Extensions: map[string]string{"user": meta.User()}}, nil
	}
	return nil, fmt.Errorf("password rejected for %q", meta.User())
}

func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	cred, ok := s.cfg.Users[meta.User()]
	if ok {
		want := key.Marshal()
		for _, k := range cred.AuthorizedKeys {
			if bytes.Equal(k.Marshal(), want) {
				return &ssh.Permissions{Extensions: map[string]string{"user": meta.User()}}, nil
			}
		}
	}
	return nil, fmt.Errorf("public key rejected for %q", meta.User())
}

// Serve accepts connections until ctx ends or the listener fails; it closes
// the listener and every connection before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var connMu sync.Mutex
	conns := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		connMu.Lock()
		defer connMu.Unlock()
		for c := range conns {
			c.Close()
		}
	})
	defer stop()
	defer wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("serving ssh for node %s: %w", s.cfg.Node, err)
		}
		connMu.Lock()
		if ctx.Err() != nil {
			connMu.Unlock()
			nc.Close()
			return nil
		}
		conns[nc] = struct{}{}
		connMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				connMu.Lock()
				delete(conns, nc)
				connMu.Unlock()
				nc.Close()
			}()
			s.handleConn(ctx, nc)
		}()
	}
}

func (s *Server) handleConn(ctx context.Context, nc net.Conn) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("ssh connection panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	conn, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	if err != nil {
		s.log.Debug("ssh handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	user := conn.Permissions.Extensions["user"]
	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handleSession(ctx, user, ch, chReqs)
		}()
	}
}

type execPayload struct{ Command string }

type exitStatusPayload struct{ Status uint32 }

// handleSession serves one session channel: env requests are accepted and
// ignored, one exec request runs; when the client closes the channel the
// command's context is cancelled.
func (s *Server) handleSession(ctx context.Context, user string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := make(chan struct{})
	done := finished // set to nil once observed, so the select stops polling it
	started := false
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				cancel()
				if started {
					<-finished
				}
				ch.Close()
				return
			}
			switch req.Type {
			case "exec":
				var p execPayload
				if started || ssh.Unmarshal(req.Payload, &p) != nil {
					_ = req.Reply(false, nil)
					continue
				}
				_ = req.Reply(true, nil)
				started = true
				go func() {
					defer close(finished)
					s.runExec(ctx, user, p.Command, ch)
				}()
			case "env":
				_ = req.Reply(true, nil)
			default:
				// shell, pty-req and subsystems (sftp) are not simulated
				_ = req.Reply(false, nil)
			}
		case <-done:
			// the command finished; drain requests until the client closes
			done = nil
		}
	}
}

func (s *Server) runExec(ctx context.Context, user, command string, ch ssh.Channel) {
	status := 255
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("ssh exec panicked", "command", command, "panic", r, "stack", string(debug.Stack()))
			fmt.Fprintf(ch.Stderr(), "lxcbot-sim: internal error\n")
			status = 255
		}
		s.record(Record{User: user, Command: command, ExitStatus: status})
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(exitStatusPayload{Status: uint32(status)}))
		_ = ch.CloseWrite()
		ch.Close()
	}()
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return
	}
	s.log.Debug("ssh exec", "user", user, "command", command)
	n := &nodeShell{srv: s, stdin: ch, stdout: ch, stderr: ch.Stderr()}
	status = n.run(ctx, command)
}
