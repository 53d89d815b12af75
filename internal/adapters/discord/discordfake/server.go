package discordfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Prefix is the path every REST route lives under.
const Prefix = "/api/v10/"

// Call is one recorded REST request.
type Call struct {
	Method string
	Path   string // below Prefix, e.g. "webhooks/1/tok/messages/@original"
	Route  string // Path with ids and tokens replaced: "webhooks/{app}/{token}/messages/@original"
	Bot    bool   // sent with the bot token
	Body   []byte // the JSON payload (payload_json of a multipart body)
	Files  []File
	Status int // what the fake answered
}

// File is an uploaded attachment.
type File struct {
	Name    string
	Content []byte
}

// Message is a message as the fake holds it.
type Message struct {
	ID         string
	ChannelID  string
	Content    string
	Embeds     []Embed
	Components json.RawMessage
	Flags      int
	Files      []File
	Edits      int
	Thinking   bool // a deferred response not completed yet
}

// Ephemeral reports whether the message carries flag 64.
func (m Message) Ephemeral() bool { return m.Flags&64 != 0 }

// Text is the message's visible text: content, embed titles,
// descriptions, field names and values, footers, one per line.
func (m Message) Text() string {
	parts := []string{m.Content}
	for _, e := range m.Embeds {
		parts = append(parts, e.Title, e.Description)
		for _, f := range e.Fields {
			parts = append(parts, f.Name, f.Value)
		}
		if e.Footer != nil {
			parts = append(parts, e.Footer.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// CustomIDs lists the custom ids of the message's components in order.
func (m Message) CustomIDs() []string { return customIDs(m.Components) }

// Embed is the part of an embed the fake checks.
type Embed struct {
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer,omitempty"`
}

// EmbedField is an embed field.
type EmbedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	*httptest.Server
	AppID    string
	BotToken string
	Signer   *Signer

	mu        sync.Mutex
	nextID    int64
	calls     []Call
	messages  map[string]*Message
	order     []string
	tokens    map[string]*token // interaction token → state
	threads   map[string]string // thread id → name
	commands  map[string]json.RawMessage
	limited   int
	retryHdr  bool
	retryAfte float64
	responses []Response
}

type token struct {
	original string // message id
	source   string // message a component was on
	channel  string
	expired  bool
	answered bool
}

// New starts a fake for application appID with bot token botToken.
func New(appID, botToken string) *Server {
	s := &Server{
		AppID:    appID,
		BotToken: botToken,
		Signer:   NewSigner(),
		nextID:   1_000_000_000_000_000,
		messages: map[string]*Message{},
		tokens:   map[string]*token{},
		threads:  map[string]string{},
		commands: map[string]json.RawMessage{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIURL is the REST base to configure the adapter with (DISCORD_API_URL).
func (s *Server) APIURL() string { return s.URL + Prefix }

func (s *Server) id() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// RateLimit makes the next n REST calls (callbacks included) answer 429
// with retry_after seconds, in the JSON body or, with header, only in the
// Retry-After header.
func (s *Server) RateLimit(n int, retryAfter float64, header bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.retryAfte, s.retryHdr = n, retryAfter, header
}

// ExpireTokens makes every interaction token seen so far expired, as
// Discord does 15 minutes after the interaction: webhook calls with it fail.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expired = true
	}
}

// Calls returns a copy of every recorded call.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Message returns a copy of a message by id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Messages returns copies of the messages of a channel, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.order {
		if m := s.messages[id]; m.ChannelID == channelID {
			out = append(out, *m)
		}
	}
	return out
}

// AllMessages returns copies of every message, oldest first.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.order {
		out = append(out, *s.messages[id])
	}
	return out
}

// Original returns the original response message of an interaction token.
func (s *Server) Original(tok string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || t.original == "" {
		return Message{}, false
	}
	return *s.messages[t.original], true
}

// Thread returns the name of a thread, and whether it exists.
func (s *Server) Thread(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.threads[id]
	return n, ok
}

// Commands returns the command tree last put for guildID ("" = global).
func (s *Server) Commands(guildID string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[guildID]
}

// AddMessage puts a message into a channel, as if someone had posted it.
func (s *Server) AddMessage(channelID, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ID: s.id(), ChannelID: channelID, Content: content}
	s.store(m)
	return m.ID
}

func (s *Server) store(m *Message) {
	s.messages[m.ID] = m
	s.order = append(s.order, m.ID)
}

// apiError is Discord's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, Prefix) {
		writeJSON(w, http.StatusNotFound, apiError{0, "404: Not Found"})
		return
	}
	path := strings.TrimPrefix(r.URL.Path, Prefix)
	body, files, err := readBody(r)
	call := Call{Method: r.Method, Path: path, Route: route(path), Body: body, Files: files,
		Bot: r.Header.Get("Authorization") == "Bot "+s.BotToken}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, out := s.dispatch(r, path, call, err)
	if status == http.StatusTooManyRequests {
		if s.retryHdr {
			w.Header().Set("Retry-After", strconv.FormatFloat(s.retryAfte, 'f', -1, 64))
			out = apiError{0, "You are being rate limited."}
		}
	}
	call.Status = status
	s.calls = append(s.calls, call)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

func readBody(r *http.Request) ([]byte, []File, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		return b, nil, err
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var (
		payload []byte
		files   []File
	)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return payload, files, nil
		}
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(io.LimitReader(p, 8<<20))
		if err != nil {
			return nil, nil, err
		}
		if p.FormName() == "payload_json" {
			payload = b
		} else {
			files = append(files, File{Name: p.FileName(), Content: b})
		}
	}
}

// route replaces snowflakes and tokens in a path with placeholders.
func route(path string) string {
	seg := strings.Split(path, "/")
	names := map[string]string{"applications": "{app}", "guilds": "{guild}", "channels": "{channel}", "messages": "{message}", "interactions": "{id}"}
	for i := 1; i < len(seg); i++ {
		if n, ok := names[seg[i-1]]; ok && seg[i] != "@original" && isDigits(seg[i]) {
			seg[i] = n
		}
		if seg[i-1] == "webhooks" && i+1 < len(seg) {
			seg[i], seg[i+1] = "{app}", "{token}"
			i++
		}
		if seg[i-1] == "{id}" {
			seg[i] = "{token}"
		}
	}
	return strings.Join(seg, "/")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (s *Server) dispatch(r *http.Request, path string, call Call, bodyErr error) (int, any) {
	if s.limited > 0 {
		s.limited--
		return http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": s.retryAfte, "global": false}
	}
	if bodyErr != nil {
		return http.StatusBadRequest, apiError{50109, "The request body contains invalid JSON."}
	}
	seg := strings.Split(path, "/")
	switch {
	case len(seg) == 4 && seg[0] == "interactions" && seg[3] == "callback" && r.Method == http.MethodPost:
		var cb Response
		if err := json.Unmarshal(call.Body, &cb); err != nil {
			return http.StatusBadRequest, apiError{50109, "invalid callback"}
		}
		t := s.tokens[seg[2]]
		if t == nil {
			return http.StatusNotFound, apiError{10062, "Unknown interaction"}
		}
		if t.answered {
			return http.StatusBadRequest, apiError{40060, "Interaction has already been acknowledged."}
		}
		if msg := s.applyCallback(t, cb, call.Files); msg != "" {
			return http.StatusBadRequest, apiError{50035, msg}
		}
		return http.StatusNoContent, nil
	case len(seg) >= 3 && seg[0] == "webhooks":
		return s.webhook(r.Method, seg, call)
	case len(seg) >= 2 && seg[0] == "channels":
		if !call.Bot {
			return http.StatusUnauthorized, apiError{0, "401: Unauthorized"}
		}
		return s.channel(r.Method, seg, call)
	case len(seg) >= 3 && seg[0] == "applications" && r.Method == http.MethodPut:
		if !call.Bot {
			return http.StatusUnauthorized, apiError{0, "401: Unauthorized"}
		}
		if seg[1] != s.AppID {
			return http.StatusForbidden, apiError{50001, "Missing Access"}
		}
		guild := ""
		if len(seg) == 5 && seg[2] == "guilds" && seg[4] == "commands" {
			guild = seg[3]
		} else if len(seg) != 3 || seg[2] != "commands" {
			return http.StatusNotFound, apiError{0, "404: Not Found"}
		}
		if msg := ValidateCommands(call.Body); msg != "" {
			return http.StatusBadRequest, apiError{50035, "Invalid Form Body: " + msg}
		}
		s.commands[guild] = append(json.RawMessage(nil), call.Body...)
		var cmds []map[string]any
		_ = json.Unmarshal(call.Body, &cmds)
		for _, c := range cmds {
			c["id"], c["application_id"], c["version"] = s.id(), s.AppID, s.id()
		}
		return http.StatusOK, cmds
	case len(seg) == 2 && seg[0] == "gateway" && seg[1] == "bot":
		return http.StatusOK, map[string]any{"url": "ws://" + r.Host + "/gateway", "shards": 1}
	}
	return http.StatusNotFound, apiError{0, "404: Not Found"}
}

// messageBody is what message creates and edits carry.
type messageBody struct {
	Content    *string         `json:"content"`
	Embeds     *[]Embed        `json:"embeds"`
	Components json.RawMessage `json:"components"`
	Flags      *int            `json:"flags"`
	Name       string          `json:"name"`
}

// checkMessage enforces the message limits Discord enforces.
func checkMessage(b messageBody) string {
	if b.Content != nil && utf8.RuneCountInString(*b.Content) > 2000 {
		return "content: Must be 2000 or fewer in length."
	}
	if b.Embeds != nil {
		if len(*b.Embeds) > 10 {
			return "embeds: Must be 10 or fewer in length."
		}
		total := 0
		for _, e := range *b.Embeds {
			if utf8.RuneCountInString(e.Description) > 4096 || utf8.RuneCountInString(e.Title) > 256 || len(e.Fields) > 25 {
				return "embeds: an embed breaks a limit"
			}
			total += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
			for _, f := range e.Fields {
				if utf8.RuneCountInString(f.Value) > 1024 || utf8.RuneCountInString(f.Name) > 256 || f.Value == "" || f.Name == "" {
					return "embeds: a field breaks a limit"
				}
				total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
			}
			if e.Footer != nil {
				total += utf8.RuneCountInString(e.Footer.Text)
			}
		}
		if total > 6000 {
			return "embeds: Embed size exceeds maximum size of 6000"
		}
	}
	if len(b.Components) > 0 && string(b.Components) != "null" {
		if msg := checkComponents(b.Components); msg != "" {
			return "components: " + msg
		}
	}
	return ""
}

func (m *Message) apply(b messageBody, files []File) {
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.Embeds != nil {
		m.Embeds = *b.Embeds
	}
	if len(b.Components) > 0 {
		m.Components = append(json.RawMessage(nil), b.Components...)
	}
	if len(files) > 0 {
		m.Files = files
	}
	m.Thinking = false
}

func (s *Server) webhook(method string, seg []string, call Call) (int, any) {
	if seg[1] != s.AppID {
		return http.StatusNotFound, apiError{10015, "Unknown Webhook"}
	}
	t := s.tokens[seg[2]]
	if t == nil || t.expired {
		return http.StatusUnauthorized, apiError{50027, "Invalid Webhook Token"}
	}
	var b messageBody
	if method != http.MethodDelete && json.Unmarshal(call.Body, &b) != nil {
		return http.StatusBadRequest, apiError{50109, "The request body contains invalid JSON."}
	}
	if msg := checkMessage(b); msg != "" {
		return http.StatusBadRequest, apiError{50035, msg}
	}
	switch {
	case len(seg) == 3 && method == http.MethodPost: // followup
		m := &Message{ID: s.id(), ChannelID: t.channel}
		if b.Flags != nil {
			m.Flags = *b.Flags & 64
		}
		m.apply(b, call.Files)
		s.store(m)
		return http.StatusOK, s.wire(m)
	case len(seg) == 5 && seg[3] == "messages":
		id := seg[4]
		if id == "@original" {
			id = t.original
		}
		m := s.messages[id]
		if m == nil {
			return http.StatusNotFound, apiError{10008, "Unknown Message"}
		}
		switch method {
		case http.MethodPatch:
			m.apply(b, call.Files)
			m.Edits++
			return http.StatusOK, s.wire(m)
		case http.MethodDelete:
			delete(s.messages, id)
			return http.StatusNoContent, nil
		}
	}
	return http.StatusNotFound, apiError{0, "404: Not Found"}
}

func (s *Server) channel(method string, seg []string, call Call) (int, any) {
	ch := seg[1]
	var b messageBody
	if json.Unmarshal(call.Body, &b) != nil {
		return http.StatusBadRequest, apiError{50109, "The request body contains invalid JSON."}
	}
	switch {
	case len(seg) == 3 && seg[2] == "messages" && method == http.MethodPost:
		if msg := checkMessage(b); msg != "" {
			return http.StatusBadRequest, apiError{50035, msg}
		}
		m := &Message{ID: s.id(), ChannelID: ch}
		m.apply(b, call.Files)
		s.store(m)
		return http.StatusOK, s.wire(m)
	case len(seg) == 4 && seg[2] == "messages" && method == http.MethodPatch:
		m := s.messages[seg[3]]
		if m == nil || m.ChannelID != ch {
			return http.StatusNotFound, apiError{10008, "Unknown Message"}
		}
		if m.Ephemeral() {
			return http.StatusNotFound, apiError{10008, "Unknown Message"}
		}
		if msg := checkMessage(b); msg != "" {
			return http.StatusBadRequest, apiError{50035, msg}
		}
		m.apply(b, call.Files)
		m.Edits++
		return http.StatusOK, s.wire(m)
	case len(seg) == 5 && seg[2] == "messages" && seg[4] == "threads" && method == http.MethodPost:
		m := s.messages[seg[3]]
		if m == nil || m.ChannelID != ch || m.Ephemeral() {
			return http.StatusNotFound, apiError{10008, "Unknown Message"}
		}
		if _, ok := s.threads[m.ID]; ok {
			return http.StatusBadRequest, apiError{160004, "A thread has already been created for this message"}
		}
		if n := utf8.RuneCountInString(b.Name); n == 0 || n > 100 {
			return http.StatusBadRequest, apiError{50035, "name: Must be between 1 and 100 in length."}
		}
		// A thread started from a message has the message's id.
		s.threads[m.ID] = b.Name
		return http.StatusCreated, map[string]any{"id": m.ID, "name": b.Name, "type": 11, "parent_id": ch}
	}
	return http.StatusNotFound, apiError{0, "404: Not Found"}
}

func (s *Server) wire(m *Message) map[string]any {
	return map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "embeds": m.Embeds, "flags": m.Flags}
}

// Response is an interaction callback as the fake received it (from the
// HTTP endpoint's answer or from POST interactions/{id}/{token}/callback).
type Response struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Responses returns every interaction callback received, in order.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// applyCallback acts on an interaction response; it returns why Discord
// would refuse it, or "".
func (s *Server) applyCallback(t *token, cb Response, files []File) string {
	s.responses = append(s.responses, cb)
	var b messageBody
	if len(cb.Data) > 0 {
		if err := json.Unmarshal(cb.Data, &b); err != nil {
			return "data: invalid"
		}
	}
	switch cb.Type {
	case 1, 8:
	case 9:
		if msg := checkModal(cb.Data); msg != "" {
			return msg
		}
	case 4, 5:
		if msg := checkMessage(b); msg != "" {
			return msg
		}
		m := &Message{ID: s.id(), ChannelID: t.channel, Thinking: cb.Type == 5}
		if b.Flags != nil {
			m.Flags = *b.Flags & 64
		}
		if cb.Type == 4 {
			m.apply(b, files)
		}
		s.store(m)
		t.original = m.ID
	case 6, 7:
		if t.source == "" {
			return "interaction_type: update types need a component interaction"
		}
		t.original = t.source
		if cb.Type == 7 {
			if msg := checkMessage(b); msg != "" {
				return msg
			}
			if m := s.messages[t.source]; m != nil {
				m.apply(b, files)
				m.Edits++
			}
		}
	default:
		return fmt.Sprintf("type: unknown interaction response type %d", cb.Type)
	}
	t.answered = true
	return ""
}
