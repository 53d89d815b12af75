// Package slackfake is a fake Slack for tests: an httptest server speaking
// the Web API methods lxcbot uses (slack-go talks to it through
// SLACK_API_URL), the response_url endpoint, file uploads, and Socket Mode
// over a WebSocket. It records every call, keeps the latest content of each
// message, can rate-limit chat.postMessage/chat.update per channel with
// 429 + Retry-After like Slack, and signs requests like Slack does.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Call is one recorded request.
type Call struct {
	Method string     // Web API method, "response_url" or "upload"
	Form   url.Values // form-encoded parameters, if any
	JSON   json.RawMessage
	Body   []byte // the raw body
	At     time.Time
	Status int // the HTTP status answered
	// Path is the request path (for response_url: which one).
	Path string
}

// Param returns a form parameter or, for JSON bodies, a top-level field as
// text.
func (c Call) Param(name string) string {
	if c.Form != nil && c.Form.Has(name) {
		return c.Form.Get(name)
	}
	if len(c.JSON) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(c.JSON, &m) == nil {
			if raw, ok := m[name]; ok {
				var s string
				if json.Unmarshal(raw, &s) == nil {
					return s
				}
				return string(raw)
			}
		}
	}
	return ""
}

// Message is the latest state of a posted message.
type Message struct {
	Channel, TS, ThreadTS, Text string
	Blocks                      string // JSON
	Edits                       int
}

// Server is the fake. Create it with New.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	calls      []Call
	messages   map[string]*Message // channel + "/" + ts
	seq        int
	rateWindow time.Duration
	lastPost   map[string]time.Time
	userGroups map[string][]string // group id → users
	failNext   map[string]int      // method → how many calls answer 500

	// Socket Mode.
	upgrader     websocket.Upgrader
	conns        []*sockConn
	acks         map[string]json.RawMessage
	ackCh        chan string
	pingInterval time.Duration
}

type sockConn struct {
	mu     sync.Mutex
	c      *websocket.Conn
	silent bool
	closed bool
}

func (s *sockConn) write(v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("connection closed")
	}
	return s.c.WriteJSON(v)
}

// New starts a fake Slack that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		t:            t,
		messages:     map[string]*Message{},
		lastPost:     map[string]time.Time{},
		userGroups:   map[string][]string{},
		failNext:     map[string]int{},
		acks:         map[string]json.RawMessage{},
		ackCh:        make(chan string, 1024),
		pingInterval: 50 * time.Millisecond,
		upgrader:     websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.api)
	mux.HandleFunc("/response/", s.responseURL)
	mux.HandleFunc("/upload/", s.upload)
	mux.HandleFunc("/socket", s.socket)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.mu.Lock()
		for _, c := range s.conns {
			c.mu.Lock()
			c.closed = true
			_ = c.c.Close()
			c.mu.Unlock()
		}
		s.mu.Unlock()
		s.srv.Close()
	})
	return s
}

// APIURL is the Web API base for slack.OptionAPIURL (ends with "/").
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL returns a response_url for one interaction.
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/response/" + id }

// SetRateLimit makes chat.postMessage and chat.update answer 429 when a
// channel got a message less than window ago (Slack allows about one per
// second). Retry-After carries the remaining wait in whole seconds,
// rounded down. Zero turns the limit off.
func (s *Server) SetRateLimit(window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateWindow = window
}

// SetUserGroup sets the members of a user group (usergroups.list).
func (s *Server) SetUserGroup(id string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userGroups[id] = users
}

// FailNext makes the next n calls of method answer 500.
func (s *Server) FailNext(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[method] = n
}

// Calls returns the recorded calls, all or those of the given methods.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Message returns the latest state of a message.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Messages returns every message posted to channel, oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	sortMessages(out)
	return out
}

func sortMessages(ms []Message) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].TS < ms[j-1].TS; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) record(r *http.Request, method string, body []byte) *Call {
	c := Call{Method: method, Body: body, At: time.Now(), Path: r.URL.Path, Status: http.StatusOK}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		c.JSON = json.RawMessage(body)
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		c.Form, _ = url.ParseQuery(string(body))
	}
	s.calls = append(s.calls, c)
	return &s.calls[len(s.calls)-1]
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%d", prefix, s.seq)
}

func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("1700000000.%06d", s.seq)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type obj = map[string]any

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	call := s.record(r, method, body)
	if n := s.failNext[method]; n > 0 {
		s.failNext[method] = n - 1
		call.Status = http.StatusInternalServerError
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := func(name string) string { return call.Param(name) }
	switch method {
	case "auth.test":
		writeJSON(w, 200, obj{"ok": true, "url": "https://fake.slack.com/", "team": "Fake", "user": "lxcbot", "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"})
	case "chat.postMessage", "chat.update":
		channel := p("channel")
		if s.rateWindow > 0 {
			if last, ok := s.lastPost[channel]; ok {
				if remaining := s.rateWindow - time.Since(last); remaining > 0 {
					call.Status = http.StatusTooManyRequests
					w.Header().Set("Retry-After", fmt.Sprint(int(math.Floor(remaining.Seconds()))))
					writeJSON(w, http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"})
					return
				}
			}
			s.lastPost[channel] = time.Now()
		}
		if method == "chat.postMessage" {
			ts := s.nextTS()
			s.messages[channel+"/"+ts] = &Message{Channel: channel, TS: ts, ThreadTS: p("thread_ts"), Text: p("text"), Blocks: p("blocks")}
			writeJSON(w, 200, obj{"ok": true, "channel": channel, "ts": ts})
			return
		}
		m, ok := s.messages[channel+"/"+p("ts")]
		if !ok {
			writeJSON(w, 200, obj{"ok": false, "error": "message_not_found"})
			return
		}
		m.Text, m.Blocks = p("text"), p("blocks")
		m.Edits++
		writeJSON(w, 200, obj{"ok": true, "channel": channel, "ts": m.TS, "text": m.Text})
	case "chat.postEphemeral":
		writeJSON(w, 200, obj{"ok": true, "message_ts": s.nextTS()})
	case "views.open", "views.update", "views.publish":
		id := p("view_id")
		if id == "" {
			id = s.nextID("V")
		}
		writeJSON(w, 200, obj{"ok": true, "view": obj{"id": id, "hash": s.nextID("h"), "type": "modal"}})
	case "files.getUploadURLExternal":
		id := s.nextID("F")
		writeJSON(w, 200, obj{"ok": true, "upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		var files []obj
		_ = json.Unmarshal([]byte(p("files")), &files)
		writeJSON(w, 200, obj{"ok": true, "files": files})
	case "usergroups.list":
		var groups []obj
		for id, users := range s.userGroups {
			groups = append(groups, obj{"id": id, "users": users})
		}
		writeJSON(w, 200, obj{"ok": true, "usergroups": groups})
	case "users.info":
		writeJSON(w, 200, obj{"ok": true, "user": obj{"id": p("user"), "name": p("user")}})
	case "apps.connections.open":
		u := strings.Replace(s.srv.URL, "http://", "ws://", 1) + "/socket"
		writeJSON(w, 200, obj{"ok": true, "url": u})
	default:
		writeJSON(w, 200, obj{"ok": false, "error": "unknown_method"})
	}
}

// responseURL records a post to a response_url.
func (s *Server) responseURL(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(r, "response_url", body)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// upload records a file upload (the URL files.getUploadURLExternal gave).
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(r, "upload", body)
	_, _ = fmt.Fprintf(w, "OK - %d", len(body))
}
