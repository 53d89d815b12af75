package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	xssh "golang.org/x/crypto/ssh"
)

// execReq is one exec request as the test server saw it.
type execReq struct {
	Ctx    context.Context // done when the client closes the session
	Cmd    string          // the raw command string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// handlerFunc answers one exec request with an exit status.
type handlerFunc func(r execReq) uint32

// testServer is an in-process SSH server that hands exec requests to a Go
// handler, the way sshd hands them to a shell.
type testServer struct {
	t        *testing.T
	addr     string
	hostKey  xssh.Signer
	password string
	userKey  xssh.PublicKey
	handler  handlerFunc

	mu       sync.Mutex
	commands []string
	conns    []net.Conn
	accepted atomic.Int32
}

func newTestServer(t *testing.T, h handlerFunc) *testServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hostKey, err := xssh.NewSignerFromKey(priv)
	require.NoError(t, err)

	s := &testServer{t: t, hostKey: hostKey, password: "s3cret-pw", handler: h}
	cfg := &xssh.ServerConfig{
		PasswordCallback: func(c xssh.ConnMetadata, pw []byte) (*xssh.Permissions, error) {
			if c.User() == "root" && string(pw) == s.password {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
		PublicKeyCallback: func(c xssh.ConnMetadata, key xssh.PublicKey) (*xssh.Permissions, error) {
			s.mu.Lock()
			ok := s.userKey != nil && c.User() == "root" && string(key.Marshal()) == string(s.userKey.Marshal())
			s.mu.Unlock()
			if ok {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
	}
	cfg.AddHostKey(hostKey)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		s.dropAll()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serveConn(conn, cfg)
			}()
		}
	}()
	return s
}

// fingerprint is the server's host key fingerprint.
func (s *testServer) fingerprint() string { return Fingerprint(s.hostKey.PublicKey()) }

// dropAll closes every client connection, as a restarting sshd would.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

func (s *testServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *testServer) serveConn(conn net.Conn, cfg *xssh.ServerConfig) {
	defer conn.Close()
	sc, chans, reqs, err := xssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go xssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(xssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
}

func (s *testServer) serveSession(ch xssh.Channel, reqs <-chan *xssh.Request) {
	defer ch.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	execs := make(chan string, 1)
	go func() {
		// The request stream ends when the client closes the channel.
		defer cancel()
		for req := range reqs {
			switch req.Type {
			case "exec":
				var p struct{ Command string }
				if err := xssh.Unmarshal(req.Payload, &p); err != nil {
					_ = req.Reply(false, nil)
					continue
				}
				_ = req.Reply(true, nil)
				execs <- p.Command
			default:
				if req.WantReply {
					_ = req.Reply(req.Type == "signal", nil)
				}
			}
		}
	}()
	var cmd string
	select {
	case cmd = <-execs:
	case <-ctx.Done():
		return
	}
	s.mu.Lock()
	s.commands = append(s.commands, cmd)
	s.mu.Unlock()
	code := s.handler(execReq{Ctx: ctx, Cmd: cmd, Stdin: ch, Stdout: ch, Stderr: ch.Stderr()})
	_, _ = ch.SendRequest("exit-status", false, xssh.Marshal(struct{ Status uint32 }{code}))
}

// newUserKey makes a client key pair, authorises it on s and returns the
// private key as PEM.
func (s *testServer) newUserKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := xssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	s.mu.Lock()
	s.userKey = signer.PublicKey()
	s.mu.Unlock()
	block, err := xssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	return string(pem.EncodeToMemory(block))
}
