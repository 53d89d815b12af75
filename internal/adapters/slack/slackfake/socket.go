package slackfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode: apps.connections.open returns a ws:// URL served here. Each
// connection gets "hello" at once and a WebSocket ping every ping interval
// until Silence; envelopes are sent with SendEnvelope and their acks are
// recorded.

// SetPingInterval sets how often connections are pinged (default 50 ms).
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingInterval = d
}

// Connections is how many Socket Mode connections have been opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	c, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	sc := &sockConn{c: c}
	s.mu.Lock()
	s.conns = append(s.conns, sc)
	n := len(s.conns)
	interval := s.pingInterval
	s.mu.Unlock()
	_ = sc.write(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A1"}, "debug_info": map[string]any{"host": "fake", "approximate_connection_time": n}})
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sc.mu.Lock()
				if !sc.silent && !sc.closed {
					_ = sc.c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				}
				sc.mu.Unlock()
			}
		}
	}()
	defer close(done)
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = ack.Payload
		s.mu.Unlock()
		select {
		case s.ackCh <- ack.EnvelopeID:
		default:
		}
	}
}

func (s *Server) current() (*sockConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.conns) - 1; i >= 0; i-- {
		if c := s.conns[i]; !c.closed {
			return c, nil
		}
	}
	return nil, errors.New("no open socket mode connection")
}

// SendEnvelope sends a request of type ("slash_commands", "interactive",
// "events_api") with payload on the newest connection and returns its
// envelope id.
func (s *Server) SendEnvelope(typ string, payload any) (string, error) {
	c, err := s.current()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	id := s.nextID("env-")
	s.mu.Unlock()
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	return id, c.write(map[string]any{"envelope_id": id, "type": typ, "payload": json.RawMessage(raw), "accepts_response_payload": typ != "events_api"})
}

// Ack returns the payload an envelope was acknowledged with, and whether
// it was acknowledged.
func (s *Server) Ack(envelopeID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.acks[envelopeID]
	return p, ok
}

// WaitAck waits until envelopeID is acknowledged or the timeout passes.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (json.RawMessage, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if p, ok := s.Ack(envelopeID); ok {
			return p, true
		}
		select {
		case <-s.ackCh:
		case <-time.After(10 * time.Millisecond):
		case <-deadline.C:
			return nil, false
		}
	}
}

// Disconnect asks the newest connection to reconnect, as Slack does
// before it rotates servers (reason: "refresh_requested" or "warning").
func (s *Server) Disconnect(reason string) error {
	c, err := s.current()
	if err != nil {
		return err
	}
	return c.write(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "fake"}})
}

// Silence makes the newest connection go quiet: no pings, no messages, as
// a half-open socket would.
func (s *Server) Silence() error {
	c, err := s.current()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.silent = true
	return nil
}
