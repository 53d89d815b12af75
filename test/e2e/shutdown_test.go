package e2e_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

// TestServeShutsDownGracefully sends SIGTERM to serve while a slash command
// is half delivered: the command still gets its 200, and serve exits 0
// within its shutdown timeout, with a creation running in its worker.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2, TaskDuration: 5 * time.Second, SleepScale: 8})
	const shutdownTimeout = 10 * time.Second
	srv := s.start(t, "serve", "serve", "--shutdown-timeout", shutdownTimeout.String())
	s.createViaSlack(t, srv.URL, "nginx-web", "web1")
	s.waitState(t, "web1", "creating")

	// The command's headers go first with Expect: 100-continue; the server
	// answers 100 Continue once the handler reads the body, so SIGTERM
	// surely lands while the delivery is in flight. The body follows after
	// serve has begun shutting down.
	req := s.slashRequest(srv.URL, "help", "trig-in-flight")
	req.Header.Set("Expect", "100-continue")
	var raw strings.Builder
	require.NoError(t, req.Write(&raw))
	wire := raw.String()
	headerEnd := strings.Index(wire, "\r\n\r\n") + 4
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(wire[:headerEnd]))
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, req)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, cont.StatusCode)

	sent := time.Now()
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
	srv.waitLog(t, "shutting down", func(l logLine) bool { return l.Msg == "shutting down" })
	_, err = conn.Write([]byte(wire[headerEnd:]))
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the command in flight is acknowledged")
	resp.Body.Close()

	require.Equal(t, 0, srv.waitExit(t))
	took := time.Since(sent)
	// Generous: the point is one shutdown timeout, not two in a row.
	require.Less(t, took, shutdownTimeout+shutdownTimeout/2, fmt.Sprintf("serve took %s to stop", took))
	_, err = net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.Error(t, err, "nothing listens after the exit")
}
