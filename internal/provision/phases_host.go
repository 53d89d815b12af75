package provision

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// output says whether and how a command's output is streamed as progress.
type output struct {
	script       string
	index, total int
}

// exec runs argv in the container. With out != nil every output line is
// masked, kept in the failure tail and published; otherwise output is only
// scanned for secrets.
func (r *run) exec(ctx context.Context, argv []string, out *output) (ExecResult, error) {
	host, err := r.hostRunner(ctx)
	if err != nil {
		return ExecResult{}, err
	}
	opts := ExecOptions{OnLine: func(stream, line string) {
		if r.mask.Intercept(line) || out == nil {
			return
		}
		line = r.mask.Mask(line)
		r.tail.Add(line)
		r.publish(ctx, ProgressEvent{Type: ProgressLog, Phase: r.phase, Script: out.script,
			ScriptIndex: out.index, ScriptTotal: out.total, Line: line, Stream: stream})
	}}
	res, err := host.Exec(ctx, r.c.VMID, argv, opts)
	if err != nil {
		return res, fmt.Errorf("running %s in CT %d on %s: %w", argv[0], r.c.VMID, r.c.NodeName, err)
	}
	return res, nil
}

// check runs a command whose exit status is the answer.
func (r *run) check(ctx context.Context, argv ...string) (bool, error) {
	res, err := r.exec(ctx, argv, nil)
	if err != nil {
		return false, err
	}
	return res.ExitCode == 0, nil
}

// must runs a command that has to succeed.
func (r *run) must(ctx context.Context, argv ...string) (ExecResult, error) {
	res, err := r.exec(ctx, argv, nil)
	if err != nil {
		return res, err
	}
	if res.ExitCode != 0 {
		return res, fmt.Errorf("%s exited with status %d: %s", strings.Join(argv, " "), res.ExitCode,
			r.mask.Mask(lastLine(res.Stderr)))
	}
	return res, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// deploy waits for the container's filesystem, creates the credentials
// directory and writes the template's files according to their policies.
func (r *run) deploy(ctx context.Context) error {
	if err := r.waitFilesystem(ctx); err != nil {
		return err
	}
	if _, err := r.must(ctx, "mkdir", "-p", "--", CredentialsDir); err != nil {
		return fmt.Errorf("creating the credentials directory: %w", err)
	}
	if _, err := r.must(ctx, "chmod", "700", CredentialsDir); err != nil {
		return fmt.Errorf("protecting the credentials directory: %w", err)
	}
	for _, f := range r.tpl.Files {
		if err := r.writeFile(ctx, f); err != nil {
			return fmt.Errorf("writing %s: %w", path.Join(f.TargetDir, f.Name), err)
		}
	}
	return nil
}

func (r *run) waitFilesystem(ctx context.Context) error {
	deadline := time.Now().Add(r.s.cfg.FilesystemWait)
	next := pollWaits(500 * time.Millisecond)
	for {
		ok, err := r.check(ctx, "test", "-d", "/etc")
		if err == nil && ok {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !transient(err) && !errors.Is(err, ErrNotFound) {
			// Waiting cannot fix a refused host key or credentials; a
			// container still booting answers with an exit status.
			return err
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("/etc is missing")
			}
			return fmt.Errorf("the filesystem of CT %d was not ready within %s: %w", r.c.VMID, r.s.cfg.FilesystemWait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next()):
		}
	}
}

// writeFile writes one managed file. default: only if absent (keeps user
// edits); replace: only if different; backup: move the existing file aside,
// then write. The file gets the owner of its target directory.
func (r *run) writeFile(ctx context.Context, f TemplateFile) error {
	dir := path.Clean(f.TargetDir)
	if !path.IsAbs(dir) || strings.ContainsAny(dir, "\x00\n") {
		return permanentf("target directory %q is not an absolute path", f.TargetDir)
	}
	if f.Name == "" || strings.ContainsAny(f.Name, "/\x00\n") || f.Name == "." || f.Name == ".." {
		return permanentf("file name %q is not valid", f.Name)
	}
	dest := path.Join(dir, f.Name)
	if _, err := r.must(ctx, "mkdir", "-p", "--", dir); err != nil {
		return err
	}
	owner, group := "root", "root"
	if res, err := r.exec(ctx, []string{"stat", "-c", "%U:%G", "--", dir}, nil); err == nil && res.ExitCode == 0 {
		if u, g, ok := strings.Cut(strings.TrimSpace(res.Stdout), ":"); ok && u != "" && g != "" && u != "UNKNOWN" {
			owner, group = u, g
		}
	}
	exists, err := r.check(ctx, "test", "-e", dest)
	if err != nil {
		return err
	}
	policy := f.Policy
	if policy == "" {
		policy = PolicyDefault
	}
	note := "wrote " + dest
	switch policy {
	case PolicyDefault:
		if exists {
			r.logLine(ctx, "kept existing "+dest+" (policy default)")
			return nil
		}
	case PolicyReplace:
		if exists {
			res, err := r.must(ctx, "cat", "--", dest)
			if err != nil {
				return err
			}
			if sha256.Sum256([]byte(res.Stdout)) == sha256.Sum256(f.Content) {
				r.logLine(ctx, dest+" is up to date (policy replace)")
				return nil
			}
			note = "replaced " + dest
		}
	case PolicyBackup:
		if exists {
			backup := dest + ".backup-" + r.s.clock.Now().Format("20060102-150405")
			if _, err := r.must(ctx, "mv", "-f", "--", dest, backup); err != nil {
				return err
			}
			note = "wrote " + dest + ", previous version kept as " + backup
		}
	default:
		return permanentf("unknown file policy %q", policy)
	}
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	host, err := r.hostRunner(ctx)
	if err != nil {
		return err
	}
	if err := host.Push(ctx, r.c.VMID, f.Content, dest, mode, owner, group); err != nil {
		return fmt.Errorf("pushing to CT %d on %s: %w", r.c.VMID, r.c.NodeName, err)
	}
	r.logLine(ctx, note)
	return nil
}

// logLine publishes one line of the bot's own narration.
func (r *run) logLine(ctx context.Context, line string) {
	r.tail.Add(line)
	r.publish(ctx, ProgressEvent{Type: ProgressLog, Phase: r.phase, Line: line, Stream: "lxcbot"})
}

// packages installs the selected buckets: apt, then pip, npm and custom.
// Every package name is its own argument, so nothing in a name reaches a
// shell. A failure is a warning unless the template is strict. Each
// manager's step is recorded when it succeeds, so a job resumed after a
// crash does not install the same packages again.
func (r *run) packages(ctx context.Context) error {
	by := map[Manager][]Package{}
	for _, b := range r.buckets {
		by[b.Manager] = append(by[b.Manager], b.Packages...)
	}
	done, err := r.installedManagers(ctx)
	if err != nil {
		return err
	}
	for _, m := range []Manager{ManagerApt, ManagerPip, ManagerNpm, ManagerCustom} {
		pkgs := by[m]
		if len(pkgs) == 0 {
			continue
		}
		if done[m] {
			r.logLine(ctx, fmt.Sprintf("%s packages were installed by an earlier attempt", m))
			continue
		}
		if err := r.checkCancel(ctx); err != nil {
			return err
		}
		var err error
		if m == ManagerCustom {
			err = r.installCustom(ctx, pkgs)
		} else {
			err = r.install(ctx, m, pkgs)
		}
		if err == nil {
			r.event(ctx, &Event{Type: EventAction, Phase: PhasePackages, Message: fmt.Sprintf("%s packages installed", m),
				Data: map[string]any{"action": actionPackagesInstalled, "manager": string(m)}})
			continue
		}
		if errors.Is(err, ErrJobCancelled) || ctx.Err() != nil {
			return err
		}
		if r.tpl.PackagesStrict {
			return permanent(err)
		}
		r.warn(ctx, r.mask.Mask(err.Error()))
	}
	return nil
}

// actionPackagesInstalled marks the event recording one manager's packages
// as installed.
const actionPackagesInstalled = "packages_installed"

// installedManagers returns the managers whose packages an earlier attempt
// installed.
func (r *run) installedManagers(ctx context.Context) (map[Manager]bool, error) {
	events, err := r.s.store.ListEvents(ctx, r.c.ID, []EventType{EventAction}, 0)
	if err != nil {
		return nil, err
	}
	done := map[Manager]bool{}
	for _, e := range events {
		if e.Data["action"] == actionPackagesInstalled {
			if m, ok := e.Data["manager"].(string); ok {
				done[Manager(m)] = true
			}
		}
	}
	return done, nil
}

func (r *run) install(ctx context.Context, m Manager, pkgs []Package) error {
	names := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Name != "" {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	out := &output{}
	var steps [][]string
	switch m {
	case ManagerApt:
		steps = [][]string{
			{"apt-get", "update"},
			append([]string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--"}, names...),
		}
	case ManagerPip:
		steps = [][]string{append([]string{"pip3", "install", "--break-system-packages", "--"}, names...)}
	case ManagerNpm:
		steps = [][]string{append([]string{"npm", "install", "-g", "--"}, names...)}
	}
	r.logLine(ctx, fmt.Sprintf("installing %d %s package(s): %s", len(names), m, strings.Join(names, " ")))
	for _, argv := range steps {
		res, err := r.exec(ctx, argv, out)
		if err != nil {
			return fmt.Errorf("installing %s packages: %w", m, err)
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("installing %s packages (%s): %s exited with status %d", m, strings.Join(names, ", "), argv[0], res.ExitCode)
		}
	}
	return nil
}

// installCustom runs each custom package's check and, when it fails, its
// install command with the package's timeout.
func (r *run) installCustom(ctx context.Context, pkgs []Package) error {
	var failed []string
	for _, p := range pkgs {
		if err := r.checkCancel(ctx); err != nil {
			return err
		}
		if p.Check != "" {
			ok, err := r.check(ctx, "bash", "-c", p.Check)
			if err != nil {
				return err
			}
			if ok {
				r.logLine(ctx, p.Name+" is already installed")
				continue
			}
		}
		timeout := time.Duration(p.TimeoutSec) * time.Second
		if timeout <= 0 {
			timeout = 300 * time.Second
		}
		r.logLine(ctx, "installing "+p.Name)
		ictx, cancel := context.WithTimeout(ctx, timeout)
		res, err := r.exec(ictx, []string{"bash", "-c", p.Install}, &output{})
		timedOut := ictx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		switch {
		case timedOut:
			failed = append(failed, fmt.Sprintf("%s (timed out after %s)", p.Name, timeout))
		case err != nil:
			if ctx.Err() != nil {
				return err
			}
			failed = append(failed, fmt.Sprintf("%s (%v)", p.Name, err))
		case res.ExitCode != 0:
			failed = append(failed, fmt.Sprintf("%s (exit status %d)", p.Name, res.ExitCode))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("installing custom packages failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

// runScripts pushes the helper library and runs the enabled scripts in
// order. Scripts that finished in an earlier attempt are not run again.
func (r *run) runScripts(ctx context.Context) error {
	done, err := r.finishedScripts(ctx)
	if err != nil {
		return err
	}
	if _, err := r.must(ctx, "mkdir", "-p", "--", ScriptDir); err != nil {
		return err
	}
	host, err := r.hostRunner(ctx)
	if err != nil {
		return err
	}
	if err := host.Push(ctx, r.c.VMID, []byte(HelperLibrary), HelperLibraryPath, 0o644, "root", "root"); err != nil {
		return fmt.Errorf("installing the helper library in CT %d: %w", r.c.VMID, err)
	}
	// Values saved before an interruption are masked in this attempt too.
	r.learnSavedSecrets(ctx)

	osID, osVersion := osOf(r.c.Request.OSTemplate)
	user := r.tpl.Extra["TEMPLATE_USER"]
	if user == "" {
		user = "root"
	}
	total := len(r.scripts)
	for i, sc := range r.scripts {
		idx := i + 1
		if done[sc.Name] {
			continue
		}
		if err := r.checkCancel(ctx); err != nil {
			return err
		}
		if !safeScriptName(sc.Name) {
			return permanentf("script name %q is not valid", sc.Name)
		}
		dest := ScriptDir + "/" + sc.Name
		if err := host.Push(ctx, r.c.VMID, []byte(sc.Body), dest, 0o700, "root", "root"); err != nil {
			return fmt.Errorf("pushing script %s to CT %d: %w", sc.Name, r.c.VMID, err)
		}
		frac := float64(i) / float64(max(total, 1))
		r.publish(ctx, ProgressEvent{Type: ProgressScriptStarted, Phase: PhaseScripts, Script: sc.Name,
			ScriptIndex: idx, ScriptTotal: total, Percent: PhasePercent(PhaseScripts, frac)})
		r.tail.Reset()
		start := r.s.clock.Now()
		// One stream: the helper library announces secrets on stderr, and stdout
		// and stderr are not ordered against each other over SSH, so a value
		// printed right after it was saved could overtake its announcement.
		inner := fmt.Sprintf("export CONTAINER_OS=%s CONTAINER_OS_VERSION=%s CONTAINER_USER=%s; set -e; source %s; source %s",
			shq(osID), shq(osVersion), shq(user), shq(HelperLibraryPath), shq(dest))
		cmd := fmt.Sprintf("bash -c %s 2>&1", shq(inner))
		res, err := r.exec(ctx, []string{"bash", "-c", cmd}, &output{script: sc.Name, index: idx, total: total})
		if err != nil {
			return fmt.Errorf("running script %s: %w", sc.Name, err)
		}
		d := r.s.clock.Now().Sub(start)
		if res.ExitCode != 0 {
			r.event(ctx, &Event{Type: EventScript, Phase: PhaseScripts, Duration: d,
				Message: fmt.Sprintf("script %s (%d/%d) exited with status %d", sc.Name, idx, total, res.ExitCode),
				Data:    map[string]any{"script": sc.Name, "exit": res.ExitCode, "lines": r.tail.Lines()}})
			return permanentf("script %s (%d/%d) exited with status %d", sc.Name, idx, total, res.ExitCode)
		}
		r.event(ctx, &Event{Type: EventScript, Phase: PhaseScripts, Duration: d,
			Message: fmt.Sprintf("script %s (%d/%d) finished", sc.Name, idx, total),
			Data:    map[string]any{"script": sc.Name, "exit": 0}})
		r.publish(ctx, ProgressEvent{Type: ProgressScriptFinished, Phase: PhaseScripts, Script: sc.Name,
			ScriptIndex: idx, ScriptTotal: total, Duration: d,
			Percent: PhasePercent(PhaseScripts, float64(idx)/float64(max(total, 1)))})
	}
	return nil
}

// finishedScripts returns the scripts recorded as finished successfully.
func (r *run) finishedScripts(ctx context.Context) (map[string]bool, error) {
	events, err := r.s.store.ListEvents(ctx, r.c.ID, []EventType{EventScript}, 0)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, e := range events {
		name, _ := e.Data["script"].(string)
		if name == "" {
			continue
		}
		switch exit := e.Data["exit"].(type) {
		case float64:
			done[name] = exit == 0
		case int:
			done[name] = exit == 0
		}
	}
	return done, nil
}

// learnSavedSecrets registers every credential already saved in the
// container with the masker.
func (r *run) learnSavedSecrets(ctx context.Context) {
	creds, err := r.readCredentials(ctx)
	if err != nil {
		r.log.WarnContext(ctx, "reading saved credentials for masking", "err", err)
		return
	}
	for _, c := range creds {
		r.mask.Add(c.Value.Reveal())
	}
}

func safeScriptName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00\n")
}

// osOf derives CONTAINER_OS and CONTAINER_OS_VERSION from an OS template
// volume such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst.
func osOf(osTemplate string) (id, version string) {
	file := osTemplate[strings.LastIndex(osTemplate, "/")+1:]
	if i := strings.IndexByte(file, ':'); i >= 0 {
		file = file[i+1:]
	}
	parts := strings.SplitN(file, "-", 3)
	if len(parts) >= 2 {
		version, _, _ = strings.Cut(parts[1], "_")
		return parts[0], version
	}
	return file, ""
}

// shq quotes s as one word for a POSIX shell.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("@%+=:,./_-", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// discover finds the container's services and credentials and stores them.
// A failure is a warning: the container itself is ready.
func (r *run) discover(ctx context.Context) error {
	res, err := r.Discover(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.warn(ctx, "service discovery failed: "+r.mask.Mask(err.Error()))
		return nil
	}
	if err := r.s.store.ReplaceServices(ctx, r.c.ID, res.Services); err != nil {
		return err
	}
	if err := r.s.store.ReplaceCredentials(ctx, r.c.ID, res.Credentials); err != nil {
		return err
	}
	var apps []string
	for _, s := range res.Services {
		if s.Kind == ServiceApplication {
			label := s.Unit
			if s.URL != "" {
				label += " " + s.URL
			} else if len(s.Ports) > 0 {
				label += fmt.Sprintf(" port %d", s.Ports[0])
			}
			apps = append(apps, label)
		}
	}
	msg := fmt.Sprintf("found %d service(s), %d credential(s)", len(res.Services), len(res.Credentials))
	if len(apps) > 0 {
		msg += ": " + strings.Join(apps, ", ")
	}
	r.logLine(ctx, msg)
	return nil
}
