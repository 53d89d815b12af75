package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// Config configures a console session.
type Config struct {
	In        io.Reader
	Out       io.Writer
	Router    *commands.Router
	Principal provision.Principal // see DefaultPrincipal
	// Script echoes every input line prefixed with "> " so that a session
	// read from a file reads as a transcript, and ends at EOF.
	Script bool
	Log    *slog.Logger
	// Metrics counts each request handed to the router as a delivery;
	// nil = none.
	Metrics *metrics.Metrics
}

// DefaultPrincipal is the console user: console:<os user>.
func DefaultPrincipal() provision.Principal {
	name := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return provision.Principal{Platform: provision.PlatformConsole, UserID: name, Name: name}
}

const mainPrompt = "lxc> "

// errEOF ends the session when input runs out.
var errEOF = errors.New("end of input")

type session struct {
	cfg      Config
	in       *bufio.Scanner
	out      io.Writer
	r        *commands.Router
	log      *slog.Logger
	delivery int
	pending  string // a command typed where a choice was asked
}

// Run reads lines until EOF, "quit" or ctx ends. Jobs started by a line are
// followed to their end before the next line is read, so a script's last
// job finishes before Run returns.
func Run(ctx context.Context, cfg Config) error {
	s := &session{cfg: cfg, in: bufio.NewScanner(cfg.In), out: cfg.Out, r: cfg.Router, log: cfg.Log}
	s.in.Buffer(make([]byte, 64*1024), 1024*1024)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if !cfg.Script {
		fmt.Fprintf(s.out, "lxcbot console as %s:%s. Type /lxc help, or quit.\n", cfg.Principal.Platform, cfg.Principal.UserID)
	}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := s.readLine(mainPrompt)
		if errors.Is(err, errEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line == "quit" || line == "exit":
			return nil
		case line == "/lxc" || strings.HasPrefix(line, "/lxc "):
			err = s.handle(ctx, s.request(commands.KindCommand, func(r *commands.Request) { r.Text = strings.TrimPrefix(line, "/lxc") }))
		default:
			fmt.Fprintln(s.out, "Commands start with /lxc; try /lxc help. Type quit to leave.")
		}
		if errors.Is(err, errEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine prompts and reads one line; in script mode it echoes the line.
func (s *session) readLine(prompt string) (string, error) {
	if s.pending != "" && prompt == mainPrompt {
		line := s.pending
		s.pending = ""
		return line, nil
	}
	if !s.cfg.Script {
		fmt.Fprint(s.out, prompt)
	}
	if !s.in.Scan() {
		if err := s.in.Err(); err != nil {
			return "", fmt.Errorf("reading console input: %w", err)
		}
		return "", errEOF
	}
	line := s.in.Text()
	if s.cfg.Script {
		if prompt != mainPrompt {
			fmt.Fprintln(s.out, strings.TrimSpace(prompt))
		}
		fmt.Fprintf(s.out, "> %s\n", line)
	}
	return line, nil
}

func (s *session) request(kind commands.RequestKind, fill func(*commands.Request)) commands.Request {
	s.delivery++
	req := commands.Request{
		Principal:  s.cfg.Principal,
		Platform:   provision.PlatformConsole,
		Workspace:  "console",
		Channel:    "console",
		Kind:       kind,
		DeliveryID: "console-" + strconv.Itoa(s.delivery),
	}
	fill(&req)
	return req
}

// send hands req to the router; the answer is the console's
// acknowledgement.
func (s *session) send(ctx context.Context, req commands.Request) commands.Response {
	start := time.Now()
	resp := s.r.Handle(ctx, req)
	kind := "command"
	switch req.Kind {
	case commands.KindAction:
		kind = "action"
	case commands.KindFormSubmit:
		kind = "form"
	}
	s.cfg.Metrics.ObserveAck("console", kind, "ok", start)
	return resp
}

// handle sends req and plays out the response: forms, live jobs, choices.
func (s *session) handle(ctx context.Context, req commands.Request) error {
	resp := s.send(ctx, req)
	for {
		choices := render(s.out, resp, "")
		for _, f := range resp.Followups {
			choices = append(choices, render(s.out, f, "")...)
		}
		switch {
		case resp.Form != nil:
			next, err := s.fillForm(ctx, resp.Form)
			if err != nil {
				return err
			}
			resp = next
			continue
		case resp.Watch != nil:
			card, err := s.follow(ctx, resp.Watch.ContainerID)
			if err != nil {
				return err
			}
			if card != nil {
				resp = *card
				resp.Watch = nil
				continue
			}
		}
		if len(choices) == 0 {
			return nil
		}
		next, ok, err := s.choose(ctx, choices)
		if err != nil || !ok {
			return err
		}
		resp = next
	}
}

// choose asks for a number; an empty answer goes back to the prompt.
func (s *session) choose(ctx context.Context, choices []choice) (commands.Response, bool, error) {
	for {
		line, err := s.readLine("choose a number (Enter to skip): ")
		if err != nil {
			return commands.Response{}, false, err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return commands.Response{}, false, nil
		}
		if strings.HasPrefix(line, "/lxc") || line == "quit" || line == "exit" {
			s.pending = line
			return commands.Response{}, false, nil
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 || n > len(choices) {
			fmt.Fprintf(s.out, "Type a number from 1 to %d, or press Enter.\n", len(choices))
			continue
		}
		c := choices[n-1]
		if c.confirm != nil {
			fmt.Fprintf(s.out, "%s %s\n", c.confirm.Title, c.confirm.Text)
			ans, err := s.readLine(fmt.Sprintf("%s? [y/N]: ", c.confirm.ConfirmLabel))
			if err != nil {
				return commands.Response{}, false, err
			}
			if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
				fmt.Fprintln(s.out, "(not done)")
				return commands.Response{}, false, nil
			}
		}
		req := s.request(commands.KindAction, func(r *commands.Request) { r.Action = c.action })
		return s.send(ctx, req), true, nil
	}
}

// fillForm asks each field in turn and submits; field errors are asked again.
func (s *session) fillForm(ctx context.Context, f *commands.Form) (commands.Response, error) {
	fmt.Fprintf(s.out, "-- %s --\n", f.Title)
	values := map[string]string{}
	ask := f.Fields
	for range 5 {
		for _, fd := range ask {
			v, err := s.askField(ctx, f, fd, values)
			if err != nil {
				return commands.Response{}, err
			}
			values[fd.Name] = v
		}
		req := s.request(commands.KindFormSubmit, func(r *commands.Request) {
			r.Form = commands.FormSubmission{FormID: f.ID, Values: values, State: f.State}
		})
		resp := s.send(ctx, req)
		if len(resp.FormErrors) == 0 {
			return resp, nil
		}
		ask = nil
		for _, fd := range f.Fields {
			if msg, bad := resp.FormErrors[fd.Name]; bad {
				fmt.Fprintf(s.out, "! %s: %s\n", fd.Label, msg)
				ask = append(ask, fd)
			}
		}
	}
	return commands.Response{Blocks: []commands.Block{commands.TextBlock("The form was not accepted; run the command again.")}}, nil
}

func (s *session) askField(ctx context.Context, f *commands.Form, fd commands.Field, values map[string]string) (string, error) {
	opts := fd.Options
	if fd.DependsOn != "" && values[fd.DependsOn] != "" {
		fresh, err := s.r.Options(ctx, s.request(commands.KindAutocomplete, func(*commands.Request) {}), f.ID, fd.Name, values)
		if err != nil {
			s.log.WarnContext(ctx, "form options", "field", fd.Name, "err", err)
		}
		opts = fresh
	}
	if fd.Kind == commands.FieldSelect && len(opts) > 0 {
		var parts []string
		for i, o := range opts {
			parts = append(parts, fmt.Sprintf("[%d] %s", i+1, o.Label))
		}
		fmt.Fprintf(s.out, "%s: %s\n", fd.Label, strings.Join(parts, "  "))
	}
	for {
		prompt := fd.Label
		if fd.Help != "" {
			prompt += " (" + fd.Help + ")"
		}
		def := fd.Default
		if def != "" {
			prompt += " [" + def + "]"
		} else if fd.Kind == commands.FieldBool {
			prompt += " [y/N]"
		}
		line, err := s.readLine(prompt + ": ")
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(line)
		if v == "" {
			v = def
		}
		if fd.Kind == commands.FieldSelect && len(opts) > 0 && v != "" {
			if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(opts) {
				v = opts[n-1].Value
			}
		}
		if fd.Kind == commands.FieldBool {
			v = strconv.FormatBool(strings.HasPrefix(strings.ToLower(v), "y") || v == "true")
		}
		if v == "" && fd.Required {
			fmt.Fprintf(s.out, "%s is required.\n", fd.Label)
			continue
		}
		return v, nil
	}
}

// follow prints a job's progress live and returns its final card.
func (s *session) follow(ctx context.Context, containerID string) (*commands.Response, error) {
	updates, err := s.r.Watch(ctx, containerID)
	if err != nil {
		fmt.Fprintf(s.out, "(cannot follow the job: %v)\n", err)
		return nil, nil
	}
	var last *commands.Response
	for u := range updates {
		ev := u.Event
		switch ev.Type {
		case provision.ProgressPhaseStarted:
			fmt.Fprintf(s.out, "  %s  %s\n", commands.ProgressBar(ev.Percent, 20), ev.Phase)
		case provision.ProgressScriptStarted:
			fmt.Fprintf(s.out, "  script %d/%d %s\n", ev.ScriptIndex, ev.ScriptTotal, ev.Script)
		case provision.ProgressLog:
			fmt.Fprintf(s.out, "  | %s\n", ev.Line)
		}
		if u.Thread != nil {
			render(s.out, *u.Thread, "  ↳ ")
		}
		card := u.Card
		last = &card
	}
	return last, nil
}
