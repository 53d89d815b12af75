package guest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// The PostgreSQL simulation: the postgresql package brings a cluster with
// the superuser role postgres and the databases postgres, template0 and
// template1; psql connects over the local socket with peer authentication
// (or over TCP with a password) and runs a small SQL subset that covers
// what provisioning scripts do: roles, databases, grants, extensions and
// the SELECT … WHERE NOT EXISTS (…) \gexec idiom. Other statements fail
// loudly as unsupported.

// PostgresRole is a role of the simulated PostgreSQL cluster.
type PostgresRole struct {
	Name        string
	Superuser   bool
	Login       bool
	CreateDB    bool
	CreateRole  bool
	HasPassword bool
}

// PostgresDatabase is a database of the simulated PostgreSQL cluster.
type PostgresDatabase struct {
	Name       string
	Owner      string
	Extensions []string
}

type pgRole struct {
	PostgresRole
	password string
}

type pgDB struct {
	name, owner string
	extensions  map[string]bool
}

type pgCluster struct {
	roles map[string]*pgRole
	dbs   map[string]*pgDB
}

func newPGCluster() *pgCluster {
	c := &pgCluster{roles: map[string]*pgRole{}, dbs: map[string]*pgDB{}}
	c.roles["postgres"] = &pgRole{PostgresRole: PostgresRole{Name: "postgres", Superuser: true, Login: true, CreateDB: true, CreateRole: true}}
	for _, d := range []string{"postgres", "template0", "template1"} {
		c.dbs[d] = &pgDB{name: d, owner: "postgres", extensions: map[string]bool{"plpgsql": true}}
	}
	return c
}

// PostgresRoles lists the roles of the container's PostgreSQL cluster,
// sorted by name; nil when PostgreSQL is not installed.
func (g *Guest) PostgresRoles() []PostgresRole {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pg == nil {
		return nil
	}
	var out []PostgresRole
	for _, n := range sortedKeys(g.pg.roles) {
		out = append(out, g.pg.roles[n].PostgresRole)
	}
	return out
}

// PostgresDatabases lists the databases of the container's PostgreSQL
// cluster, sorted by name; nil when PostgreSQL is not installed.
func (g *Guest) PostgresDatabases() []PostgresDatabase {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pg == nil {
		return nil
	}
	var out []PostgresDatabase
	for _, n := range sortedKeys(g.pg.dbs) {
		d := g.pg.dbs[n]
		out = append(out, PostgresDatabase{Name: d.name, Owner: d.owner, Extensions: sortedKeys(d.extensions)})
	}
	return out
}

// PostgresPasswordMatches reports whether role exists and has password.
func (g *Guest) PostgresPasswordMatches(role, password string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pg == nil {
		return false
	}
	r, ok := g.pg.roles[role]
	return ok && r.HasPassword && r.password == password
}

const pgSocket = "/var/run/postgresql/.s.PGSQL."

type pgError struct{ msg string }

func (e *pgError) Error() string { return e.msg }

func pgErrorf(format string, args ...any) error { return &pgError{msg: fmt.Sprintf(format, args...)} }

// psqlSession is one psql invocation connected to a database as a role.
type psqlSession struct {
	g        *Guest
	ios      ioSet
	role, db string
	vars     map[string]string
	quiet    bool
	tuples   bool
	unalign  bool
	source   string // "<stdin>", a file name, or "" for -c
}

func cPsql(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	p := &psqlSession{g: s.g, ios: ios, vars: map[string]string{}, source: "<stdin>"}
	var commands []string
	var file, host, port string
	role, db := "", ""
	var positional []string
	// Split clusters of short options: -tAc SQL is -t -A -c SQL, -Upostgres is -U postgres.
	var args []string
	for i, a := range argv[1:] {
		if a == "--" {
			args = append(args, argv[1+i:]...)
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			args = append(args, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			args = append(args, "-"+a[j:j+1])
			if strings.ContainsRune("cfUdhpv", rune(a[j])) {
				if j+1 < len(a) {
					args = append(args, a[j+1:])
				}
				break
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, bool) {
			if i+1 >= len(args) {
				fmt.Fprintf(ios.err, "psql: error: option requires an argument -- '%s'\n", strings.TrimLeft(a, "-"))
				return "", false
			}
			i++
			return args[i], true
		}
		long, val, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") {
			long, hasVal = a, false
		}
		var v string
		var ok bool
		switch long {
		case "-c", "--command", "-f", "--file", "-U", "--username", "-d", "--dbname", "-h", "--host",
			"-p", "--port", "-v", "--set", "--variable":
			if hasVal {
				v, ok = val, true
			} else if v, ok = next(); !ok {
				return 1, nil
			}
		}
		switch long {
		case "--version", "-V":
			fmt.Fprintln(ios.out, "psql (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)")
			return 0, nil
		case "-c", "--command":
			commands = append(commands, v)
		case "-f", "--file":
			file = v
		case "-U", "--username":
			role = v
		case "-d", "--dbname":
			db = v
		case "-h", "--host":
			host = v
		case "-p", "--port":
			port = v
		case "-v", "--set", "--variable":
			name, value, _ := strings.Cut(v, "=")
			p.vars[name] = value
		case "-q", "--quiet":
			p.quiet = true
		case "-t", "--tuples-only":
			p.tuples = true
		case "-A", "--no-align":
			p.unalign = true
		case "-X", "--no-psqlrc", "-w", "--no-password", "-b", "--echo-errors", "-1", "--single-transaction":
		default:
			if strings.HasPrefix(a, "-") {
				return 0, &UnsupportedError{What: "psql option " + a}
			}
			positional = append(positional, a)
		}
	}
	if len(positional) > 0 && db == "" {
		db = positional[0]
		positional = positional[1:]
	}
	if len(positional) > 0 && role == "" {
		role = positional[0]
	}
	if strings.Contains(db, "://") || strings.Contains(db, "=") {
		return 0, &UnsupportedError{What: "psql connection strings"}
	}
	if role == "" {
		role = s.user
		if v, ok := s.get("PGUSER"); ok && v != "" {
			role = v
		}
	}
	if db == "" {
		db = role
		if v, ok := s.get("PGDATABASE"); ok && v != "" {
			db = v
		}
	}
	if code, err := p.connect(s, host, port, role, db); code != 0 || err != nil {
		return code, err
	}

	var input string
	switch {
	case len(commands) > 0:
		p.source = ""
		failed := false
		for _, c := range commands {
			code, err := p.run(ctx, c)
			if err != nil {
				return code, err
			}
			if code != 0 {
				failed = true
				break
			}
		}
		if failed {
			return 1, nil
		}
		return 0, nil
	case file != "" && file != "-":
		r, err := s.g.openReader(cleanPath(s.cwd, file))
		if err != nil {
			fmt.Fprintf(ios.err, "psql: error: %s: %s\n", file, errText(err))
			return 1, nil
		}
		data, _ := io.ReadAll(io.LimitReader(r, maxFileSize))
		input, p.source = string(data), file
	default:
		data, _ := io.ReadAll(io.LimitReader(ios.in, maxFileSize))
		input = string(data)
	}
	return p.run(ctx, input)
}

// connect checks that the server runs and the role may connect to db.
func (p *psqlSession) connect(s *shell, host, port, role, db string) (int, error) {
	g := p.g
	g.mu.Lock()
	defer g.mu.Unlock()
	listen := g.postgresListenLocked()
	cfgPort := "5432"
	if len(listen) > 0 {
		_, cfgPort, _ = splitHostPort(listen[0])
	}
	if port == "" {
		port = cfgPort
	}
	u, running := g.units["postgresql.service"]
	up := g.pg != nil && running && u.active && port == cfgPort
	tcp := false
	var where string
	switch host {
	case "", "/var/run/postgresql", "/run/postgresql":
		where = fmt.Sprintf("on socket %q", pgSocket+port)
	case "localhost", "127.0.0.1", "::1":
		tcp = true
		addr := map[string]string{"localhost": "127.0.0.1", "127.0.0.1": "127.0.0.1", "::1": "::1"}[host]
		where = fmt.Sprintf("at %q (%s), port %s", host, addr, port)
		found := false
		for _, l := range listen {
			h, _, _ := splitHostPort(l)
			if h == addr || (h == "0.0.0.0" && addr == "127.0.0.1") || (h == "::" && addr == "::1") {
				found = true
			}
		}
		up = up && found
	default:
		return 0, &UnsupportedError{What: "psql -h " + host + " (only the local socket and localhost are simulated)"}
	}
	fail := func(msg string) (int, error) {
		fmt.Fprintf(p.ios.err, "psql: error: connection to server %s failed: %s\n", where, msg)
		return 2, nil
	}
	if !up {
		if tcp {
			return fail("Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?")
		}
		return fail("No such file or directory\n\tIs the server running locally and accepting connections on that socket?")
	}
	r, ok := g.pg.roles[role]
	if tcp {
		pw, _ := s.get("PGPASSWORD")
		if pw == "" {
			return fail("fe_sendauth: no password supplied")
		}
		if !ok || !r.HasPassword || r.password != pw {
			return fail(fmt.Sprintf("FATAL:  password authentication failed for user %q", role))
		}
	} else if role != s.user {
		return fail(fmt.Sprintf("FATAL:  Peer authentication failed for user %q", role))
	}
	if !ok {
		return fail(fmt.Sprintf("FATAL:  role %q does not exist", role))
	}
	if !r.Login {
		return fail(fmt.Sprintf("FATAL:  role %q is not permitted to log in", role))
	}
	if _, ok := g.pg.dbs[db]; !ok || db == "template0" {
		return fail(fmt.Sprintf("FATAL:  database %q does not exist", db))
	}
	p.role, p.db = role, db
	return 0, nil
}

// run executes psql input: SQL statements ended by ';' and backslash
// commands. It returns psql's exit status: 3 when ON_ERROR_STOP stopped it.
func (p *psqlSession) run(ctx context.Context, input string) (int, error) {
	stop := false
	if v, ok := p.vars["ON_ERROR_STOP"]; ok {
		switch strings.ToLower(v) {
		case "", "1", "on", "true", "yes":
			stop = true
		}
	}
	var buf strings.Builder
	line, start := 1, 0
	errors := 0
	exec := func(gexec bool) (bool, error) {
		q := strings.TrimSpace(buf.String())
		buf.Reset()
		if q == "" {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		err := p.execQuery(q, gexec)
		var pe *pgError
		if asPG(err, &pe) {
			errors++
			prefix := ""
			if p.source != "" {
				prefix = fmt.Sprintf("psql:%s:%d: ", p.source, start)
			}
			fmt.Fprintf(p.ios.err, "%sERROR:  %s\n", prefix, pe.msg)
			return !stop, nil
		}
		return err == nil, err
	}
	rs := []rune(input)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if buf.Len() == 0 {
			if unicode.IsSpace(c) {
				if c == '\n' {
					line++
				}
				continue
			}
			start = line
		}
		switch {
		case c == '\n':
			line++
			buf.WriteRune(c)
		case c == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(rs) && rs[i+1] == '*':
			j := i + 2
			for j+1 < len(rs) && (rs[j] != '*' || rs[j+1] != '/') {
				if rs[j] == '\n' {
					line++
				}
				j++
			}
			i = j + 1
			buf.WriteRune(' ')
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(rs) && rs[j] != c {
				j++
			}
			if j >= len(rs) {
				return 0, &UnsupportedError{What: "psql input with an unterminated quoted string"}
			}
			lit := string(rs[i : j+1])
			line += strings.Count(lit, "\n")
			buf.WriteString(lit)
			i = j
		case c == '$' && i+1 < len(rs) && (rs[i+1] == '$' || unicode.IsLetter(rs[i+1])):
			return 0, &UnsupportedError{What: "dollar-quoted strings in psql input"}
		case c == ':' && i+1 < len(rs) && rs[i+1] == ':':
			buf.WriteString("::")
			i++
		case c == ':' && i+1 < len(rs) && (rs[i+1] == '\'' || rs[i+1] == '"' || sqlNameStart(rs[i+1])):
			j, name, quote := i+1, "", rune(0)
			if rs[j] == '\'' || rs[j] == '"' {
				quote = rs[j]
				k := j + 1
				for k < len(rs) && rs[k] != quote {
					k++
				}
				if k >= len(rs) {
					buf.WriteRune(c)
					break
				}
				name, j = string(rs[j+1:k]), k+1
			} else {
				k := j
				for k < len(rs) && (sqlNameStart(rs[k]) || unicode.IsDigit(rs[k])) {
					k++
				}
				name, j = string(rs[j:k]), k
			}
			v, ok := p.vars[name]
			if !ok {
				buf.WriteRune(c)
				break
			}
			switch quote {
			case '\'':
				v = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			case '"':
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			buf.WriteString(v)
			i = j - 1
		case c == ';':
			if ok, err := exec(false); !ok || err != nil {
				return 3, err
			}
		case c == '\\':
			end := i + 1
			for end < len(rs) && rs[end] != '\n' {
				end++
			}
			meta := strings.Fields(string(rs[i+1 : end]))
			i = end - 1
			if len(meta) == 0 {
				return 0, &UnsupportedError{What: "psql meta-command \\"}
			}
			switch meta[0] {
			case "gexec", "g":
				if ok, err := exec(meta[0] == "gexec"); !ok || err != nil {
					return 3, err
				}
			case "q", "quit":
				return 0, nil
			case "set":
				if len(meta) > 1 {
					p.vars[meta[1]] = strings.Join(meta[2:], "")
				}
			case "echo":
				fmt.Fprintln(p.ios.out, strings.Join(meta[1:], " "))
			case "c", "connect":
				if len(meta) > 1 {
					p.g.mu.Lock()
					_, ok := p.g.pg.dbs[meta[1]]
					p.g.mu.Unlock()
					if !ok {
						fmt.Fprintf(p.ios.err, "connection to server on socket %q failed: FATAL:  database %q does not exist\n", pgSocket+"5432", meta[1])
						errors++
						if stop {
							return 3, nil
						}
						break
					}
					p.db = meta[1]
					if !p.quiet {
						fmt.Fprintf(p.ios.out, "You are now connected to database %q as user %q.\n", p.db, p.role)
					}
				}
			default:
				return 0, &UnsupportedError{What: "psql meta-command \\" + meta[0]}
			}
		default:
			buf.WriteRune(c)
		}
	}
	if ok, err := exec(false); !ok || err != nil {
		return 3, err
	}
	if p.source == "" && errors > 0 {
		return 1, nil
	}
	return 0, nil
}

func asPG(err error, target **pgError) bool {
	pe, ok := err.(*pgError)
	if ok {
		*target = pe
	}
	return ok
}

func sqlNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// execQuery runs one statement; with gexec every value of its result is run
// as a statement in turn.
func (p *psqlSession) execQuery(q string, gexec bool) error {
	res, err := p.exec(q)
	if err != nil {
		return err
	}
	if gexec {
		for _, row := range res.rows {
			for _, v := range row {
				if v == nil {
					continue
				}
				if err := p.execQuery(*v, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	p.print(res)
	return nil
}

type pgResult struct {
	tag  string
	cols []string
	rows [][]*string
}

func (p *psqlSession) print(res pgResult) {
	w := p.ios.out
	if res.cols == nil {
		if !p.quiet && res.tag != "" {
			fmt.Fprintln(w, res.tag)
		}
		return
	}
	cell := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	if p.unalign {
		if !p.tuples {
			fmt.Fprintln(w, strings.Join(res.cols, "|"))
		}
		for _, r := range res.rows {
			var vals []string
			for _, v := range r {
				vals = append(vals, cell(v))
			}
			fmt.Fprintln(w, strings.Join(vals, "|"))
		}
		if !p.tuples {
			fmt.Fprintf(w, "(%d %s)\n", len(res.rows), plural(len(res.rows), "row", "rows"))
		}
		return
	}
	widths := make([]int, len(res.cols))
	for i, c := range res.cols {
		widths[i] = len(c)
	}
	for _, r := range res.rows {
		for i, v := range r {
			widths[i] = max(widths[i], len(cell(v)))
		}
	}
	line := func(vals []string, center bool) string {
		var parts []string
		for i, v := range vals {
			pad := widths[i] - len(v)
			if center {
				l := pad / 2
				parts = append(parts, " "+strings.Repeat(" ", l)+v+strings.Repeat(" ", pad-l)+" ")
			} else {
				parts = append(parts, " "+v+strings.Repeat(" ", pad)+" ")
			}
		}
		if center {
			return strings.Join(parts, "|") // psql pads the header, not the last column of rows
		}
		return strings.TrimRight(strings.Join(parts, "|"), " ")
	}
	if !p.tuples {
		fmt.Fprintln(w, line(res.cols, true))
		var dashes []string
		for _, n := range widths {
			dashes = append(dashes, strings.Repeat("-", n+2))
		}
		fmt.Fprintln(w, strings.Join(dashes, "+"))
	}
	for _, r := range res.rows {
		var vals []string
		for _, v := range r {
			vals = append(vals, cell(v))
		}
		fmt.Fprintln(w, line(vals, false))
	}
	if !p.tuples {
		fmt.Fprintf(w, "(%d %s)\n\n", len(res.rows), plural(len(res.rows), "row", "rows"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ---- SQL ----

type sqlTok struct {
	kind byte // 'i' identifier (lowercased unless quoted), 's' string, 'n' number, 'p' punctuation
	text string
}

func sqlTokens(q string) ([]sqlTok, error) {
	var out []sqlTok
	rs := []rune(q)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(rs); j++ {
				if rs[j] == '\'' {
					if j+1 < len(rs) && rs[j+1] == '\'' {
						b.WriteRune('\'')
						j++
						continue
					}
					break
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, pgErrorf("unterminated quoted string at or near \"%s\"", string(rs[i:]))
			}
			out = append(out, sqlTok{'s', b.String()})
			i = j
		case c == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			if j >= len(rs) {
				return nil, pgErrorf("unterminated quoted identifier at or near \"%s\"", string(rs[i:]))
			}
			out = append(out, sqlTok{'i', string(rs[i+1 : j])})
			i = j
		case sqlNameStart(c):
			j := i
			for j < len(rs) && (sqlNameStart(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '$') {
				j++
			}
			out = append(out, sqlTok{'i', strings.ToLower(string(rs[i:j]))})
			i = j - 1
		case unicode.IsDigit(c):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.') {
				j++
			}
			out = append(out, sqlTok{'n', string(rs[i:j])})
			i = j - 1
		case strings.ContainsRune("<>!", c) && i+1 < len(rs) && rs[i+1] == '=', c == '<' && i+1 < len(rs) && rs[i+1] == '>',
			c == ':' && i+1 < len(rs) && rs[i+1] == ':':
			out = append(out, sqlTok{'p', string(rs[i : i+2])})
			i++
		default:
			out = append(out, sqlTok{'p', string(c)})
		}
	}
	return out, nil
}

// sqlParser walks the tokens of one statement.
type sqlParser struct {
	toks []sqlTok
	pos  int
}

func (sp *sqlParser) peek() sqlTok {
	if sp.pos < len(sp.toks) {
		return sp.toks[sp.pos]
	}
	return sqlTok{}
}

func (sp *sqlParser) next() sqlTok {
	t := sp.peek()
	if sp.pos < len(sp.toks) {
		sp.pos++
	}
	return t
}

func (sp *sqlParser) done() bool { return sp.pos >= len(sp.toks) }

// kw consumes the keywords if they come next.
func (sp *sqlParser) kw(words ...string) bool {
	for i, w := range words {
		if sp.pos+i >= len(sp.toks) {
			return false
		}
		t := sp.toks[sp.pos+i]
		if (t.kind != 'i' && t.kind != 'p') || t.text != w {
			return false
		}
	}
	sp.pos += len(words)
	return true
}

func (sp *sqlParser) syntaxErr() error {
	if sp.done() {
		return pgErrorf("syntax error at end of input")
	}
	return pgErrorf("syntax error at or near \"%s\"", sp.peek().text)
}

func (sp *sqlParser) ident() (string, error) {
	t := sp.next()
	if t.kind != 'i' {
		sp.pos--
		return "", sp.syntaxErr()
	}
	return t.text, nil
}

func (p *psqlSession) exec(q string) (pgResult, error) {
	toks, err := sqlTokens(q)
	if err != nil {
		return pgResult{}, err
	}
	sp := &sqlParser{toks: toks}
	g := p.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pg == nil {
		return pgResult{}, pgErrorf("server closed the connection unexpectedly")
	}
	me := g.pg.roles[p.role]
	if me == nil {
		return pgResult{}, pgErrorf("role %q does not exist", p.role)
	}
	unsupported := func() (pgResult, error) {
		return pgResult{}, &UnsupportedError{What: "SQL statement in psql: " + firstWords(q, 4)}
	}
	switch {
	case sp.kw("select"):
		return p.selectLocked(sp)
	case sp.kw("create", "role"), sp.kw("create", "user"):
		login := sp.toks[1].text == "user"
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		if !me.Superuser && !me.CreateRole {
			return pgResult{}, pgErrorf("permission denied to create role")
		}
		if _, ok := g.pg.roles[name]; ok {
			return pgResult{}, pgErrorf("role %q already exists", name)
		}
		r := &pgRole{PostgresRole: PostgresRole{Name: name, Login: login}}
		if err := roleOptions(sp, r); err != nil {
			return pgResult{}, err
		}
		g.pg.roles[name] = r
		return pgResult{tag: "CREATE ROLE"}, nil
	case sp.kw("alter", "role"), sp.kw("alter", "user"):
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		if sp.kw("rename") || sp.kw("set") || sp.kw("reset") || sp.kw("in") {
			return unsupported()
		}
		r, ok := g.pg.roles[name]
		if !ok {
			return pgResult{}, pgErrorf("role %q does not exist", name)
		}
		cp := *r
		if err := roleOptions(sp, &cp); err != nil {
			return pgResult{}, err
		}
		if !me.Superuser && (name != me.Name || cp.PostgresRole != r.PostgresRole && !onlyPassword(r, &cp)) {
			return pgResult{}, pgErrorf("permission denied to alter role")
		}
		*r = cp
		return pgResult{tag: "ALTER ROLE"}, nil
	case sp.kw("drop", "role"), sp.kw("drop", "user"):
		ifExists := sp.kw("if", "exists")
		for {
			name, err := sp.ident()
			if err != nil {
				return pgResult{}, err
			}
			if !me.Superuser && !me.CreateRole {
				return pgResult{}, pgErrorf("permission denied to drop role")
			}
			if _, ok := g.pg.roles[name]; !ok {
				if !ifExists {
					return pgResult{}, pgErrorf("role %q does not exist", name)
				}
				fmt.Fprintf(p.ios.err, "NOTICE:  role %q does not exist, skipping\n", name)
			} else if name == p.role {
				return pgResult{}, pgErrorf("current user cannot be dropped")
			} else {
				for _, d := range g.pg.dbs {
					if d.owner == name {
						return pgResult{}, pgErrorf("role %q cannot be dropped because some objects depend on it", name)
					}
				}
				delete(g.pg.roles, name)
			}
			if !sp.kw(",") {
				break
			}
		}
		if !sp.done() {
			return pgResult{}, sp.syntaxErr()
		}
		return pgResult{tag: "DROP ROLE"}, nil
	case sp.kw("create", "database"):
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		if !me.Superuser && !me.CreateDB {
			return pgResult{}, pgErrorf("permission denied to create database")
		}
		owner := me.Name
		sp.kw("with")
		for !sp.done() {
			opt, err := sp.ident()
			if err != nil {
				return pgResult{}, err
			}
			switch opt {
			case "owner", "template", "encoding", "locale", "lc_collate", "lc_ctype", "tablespace", "allow_connections",
				"is_template", "strategy", "locale_provider", "icu_locale", "connection":
				if opt == "connection" && !sp.kw("limit") {
					return pgResult{}, sp.syntaxErr()
				}
				sp.kw("=")
				v := sp.next()
				if v.kind == 0 || v.kind == 'p' {
					sp.pos--
					return pgResult{}, sp.syntaxErr()
				}
				if opt == "owner" {
					owner = v.text
				}
				if opt == "template" && g.pg.dbs[v.text] == nil {
					return pgResult{}, pgErrorf("template database %q does not exist", v.text)
				}
			default:
				sp.pos--
				return pgResult{}, sp.syntaxErr()
			}
		}
		if _, ok := g.pg.roles[owner]; !ok {
			return pgResult{}, pgErrorf("role %q does not exist", owner)
		}
		if _, ok := g.pg.dbs[name]; ok {
			return pgResult{}, pgErrorf("database %q already exists", name)
		}
		g.pg.dbs[name] = &pgDB{name: name, owner: owner, extensions: map[string]bool{"plpgsql": true}}
		return pgResult{tag: "CREATE DATABASE"}, nil
	case sp.kw("alter", "database"):
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		if !sp.kw("owner", "to") {
			return unsupported()
		}
		owner, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		d, ok := g.pg.dbs[name]
		switch {
		case !ok:
			return pgResult{}, pgErrorf("database %q does not exist", name)
		case g.pg.roles[owner] == nil:
			return pgResult{}, pgErrorf("role %q does not exist", owner)
		case !me.Superuser && d.owner != me.Name:
			return pgResult{}, pgErrorf("must be owner of database %s", name)
		}
		d.owner = owner
		return pgResult{tag: "ALTER DATABASE"}, nil
	case sp.kw("drop", "database"):
		ifExists := sp.kw("if", "exists")
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		d, ok := g.pg.dbs[name]
		switch {
		case !ok && ifExists:
			fmt.Fprintf(p.ios.err, "NOTICE:  database %q does not exist, skipping\n", name)
		case !ok:
			return pgResult{}, pgErrorf("database %q does not exist", name)
		case name == p.db:
			return pgResult{}, pgErrorf("cannot drop the currently open database")
		case !me.Superuser && d.owner != me.Name:
			return pgResult{}, pgErrorf("must be owner of database %s", name)
		default:
			delete(g.pg.dbs, name)
		}
		return pgResult{tag: "DROP DATABASE"}, nil
	case sp.kw("grant"), sp.kw("revoke"):
		tag := strings.ToUpper(sp.toks[0].text)
		sep := map[string]string{"GRANT": "to", "REVOKE": "from"}[tag]
		for !sp.done() && !sp.kw(sep) {
			if sp.kw("on", "database") {
				name, err := sp.ident()
				if err != nil {
					return pgResult{}, err
				}
				if g.pg.dbs[name] == nil {
					return pgResult{}, pgErrorf("database %q does not exist", name)
				}
				continue
			}
			sp.next()
		}
		if sp.done() {
			return pgResult{}, sp.syntaxErr()
		}
		for {
			name, err := sp.ident()
			if err != nil {
				return pgResult{}, err
			}
			if name != "public" && g.pg.roles[name] == nil {
				return pgResult{}, pgErrorf("role %q does not exist", name)
			}
			if !sp.kw(",") {
				break
			}
		}
		return pgResult{tag: tag}, nil
	case sp.kw("create", "extension"):
		ifNot := sp.kw("if", "not", "exists")
		name, err := sp.ident()
		if err != nil {
			return pgResult{}, err
		}
		d := g.pg.dbs[p.db]
		if d.extensions[name] {
			if !ifNot {
				return pgResult{}, pgErrorf("extension %q already exists", name)
			}
			fmt.Fprintf(p.ios.err, "NOTICE:  extension %q already exists, skipping\n", name)
			return pgResult{tag: "CREATE EXTENSION"}, nil
		}
		if !me.Superuser {
			return pgResult{}, pgErrorf("permission denied to create extension %q", name)
		}
		d.extensions[name] = true
		return pgResult{tag: "CREATE EXTENSION"}, nil
	case sp.kw("begin"), sp.kw("start", "transaction"):
		return pgResult{tag: "BEGIN"}, nil
	case sp.kw("commit"), sp.kw("end"):
		return pgResult{tag: "COMMIT"}, nil
	case sp.kw("set"):
		return pgResult{tag: "SET"}, nil
	}
	return unsupported()
}

func firstWords(q string, n int) string {
	f := strings.Fields(q)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

func onlyPassword(before *pgRole, after *pgRole) bool {
	b, a := before.PostgresRole, after.PostgresRole
	b.HasPassword, a.HasPassword = false, false
	return a == b
}

// roleOptions applies CREATE/ALTER ROLE options.
func roleOptions(sp *sqlParser, r *pgRole) error {
	sp.kw("with")
	for !sp.done() {
		opt, err := sp.ident()
		if err != nil {
			return err
		}
		switch opt {
		case "login", "nologin":
			r.Login = opt == "login"
		case "superuser", "nosuperuser":
			r.Superuser = opt == "superuser"
		case "createdb", "nocreatedb":
			r.CreateDB = opt == "createdb"
		case "createrole", "nocreaterole":
			r.CreateRole = opt == "createrole"
		case "inherit", "noinherit", "replication", "noreplication", "bypassrls", "nobypassrls":
		case "encrypted", "password":
			if opt == "encrypted" && !sp.kw("password") {
				return sp.syntaxErr()
			}
			v := sp.next()
			switch {
			case v.kind == 's':
				r.password, r.HasPassword = v.text, true
			case v.kind == 'i' && v.text == "null":
				r.password, r.HasPassword = "", false
			default:
				sp.pos--
				return sp.syntaxErr()
			}
		case "connection":
			if !sp.kw("limit") {
				return sp.syntaxErr()
			}
			if t := sp.next(); t.kind != 'n' && t.text != "-" {
				sp.pos--
				return sp.syntaxErr()
			} else if t.text == "-" {
				sp.next()
			}
		case "valid":
			if !sp.kw("until") || sp.next().kind != 's' {
				return sp.syntaxErr()
			}
		case "in", "role", "admin", "sysid", "user":
			return &UnsupportedError{What: "role option " + strings.ToUpper(opt)}
		default:
			sp.pos--
			return sp.syntaxErr()
		}
	}
	return nil
}

// ---- SELECT ----

type sqlRow map[string]string

func (p *psqlSession) tableLocked(name string) ([]sqlRow, error) {
	name = strings.TrimPrefix(name, "pg_catalog.")
	var rows []sqlRow
	b := func(v bool) string {
		if v {
			return "t"
		}
		return "f"
	}
	switch name {
	case "pg_roles", "pg_user", "pg_authid":
		for _, n := range sortedKeys(p.g.pg.roles) {
			r := p.g.pg.roles[n]
			if name == "pg_user" && !r.Login {
				continue
			}
			rows = append(rows, sqlRow{"rolname": r.Name, "usename": r.Name, "rolsuper": b(r.Superuser), "usesuper": b(r.Superuser),
				"rolcanlogin": b(r.Login), "rolcreatedb": b(r.CreateDB), "usecreatedb": b(r.CreateDB), "rolcreaterole": b(r.CreateRole)})
		}
	case "pg_database":
		for _, n := range sortedKeys(p.g.pg.dbs) {
			rows = append(rows, sqlRow{"datname": n, "datistemplate": b(n == "template0" || n == "template1")})
		}
	case "pg_extension":
		for _, e := range sortedKeys(p.g.pg.dbs[p.db].extensions) {
			rows = append(rows, sqlRow{"extname": e})
		}
	default:
		return nil, &UnsupportedError{What: "SELECT from " + name + " in psql"}
	}
	return rows, nil
}

type selectItem struct {
	name string
	eval func(sqlRow) (*string, error)
}

func (p *psqlSession) selectLocked(sp *sqlParser) (pgResult, error) {
	items, table, where, err := p.parseSelectLocked(sp)
	if err != nil {
		return pgResult{}, err
	}
	if sp.kw(")") || !sp.done() {
		return pgResult{}, sp.syntaxErr()
	}
	rows, err := p.rowsLocked(table, where)
	if err != nil {
		return pgResult{}, err
	}
	res := pgResult{cols: []string{}}
	for _, it := range items {
		res.cols = append(res.cols, it.name)
	}
	for _, r := range rows {
		var out []*string
		for _, it := range items {
			v, err := it.eval(r)
			if err != nil {
				return pgResult{}, err
			}
			out = append(out, v)
		}
		res.rows = append(res.rows, out)
	}
	return res, nil
}

func (p *psqlSession) rowsLocked(table string, where func(sqlRow) (bool, error)) ([]sqlRow, error) {
	rows := []sqlRow{{}}
	if table != "" {
		var err error
		if rows, err = p.tableLocked(table); err != nil {
			return nil, err
		}
	}
	if where == nil {
		return rows, nil
	}
	var out []sqlRow
	for _, r := range rows {
		ok, err := where(r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// parseSelectLocked parses "items [FROM table] [WHERE cond]" after SELECT.
func (p *psqlSession) parseSelectLocked(sp *sqlParser) ([]selectItem, string, func(sqlRow) (bool, error), error) {
	var items []selectItem
	for !sp.done() && !sp.kw("from") && sp.peek().text != "where" && sp.peek().text != ")" {
		if len(items) > 0 && !sp.kw(",") {
			return nil, "", nil, sp.syntaxErr()
		}
		it, err := p.selectExpr(sp)
		if err != nil {
			return nil, "", nil, err
		}
		if sp.kw("as") {
			if it.name, err = sp.ident(); err != nil {
				return nil, "", nil, err
			}
		}
		items = append(items, it)
		if sp.peek().text == "from" {
			sp.next()
			break
		}
	}
	table := ""
	if sp.pos > 0 && sp.toks[sp.pos-1].text == "from" {
		t, err := sp.ident()
		if err != nil {
			return nil, "", nil, err
		}
		if sp.kw(".") {
			n, err := sp.ident()
			if err != nil {
				return nil, "", nil, err
			}
			t += "." + n
		}
		table = t
	}
	var where func(sqlRow) (bool, error)
	if sp.kw("where") {
		var err error
		if where, err = p.condOr(sp); err != nil {
			return nil, "", nil, err
		}
	}
	return items, table, where, nil
}

func (p *psqlSession) selectExpr(sp *sqlParser) (selectItem, error) {
	t := sp.next()
	str := func(s string) func(sqlRow) (*string, error) {
		return func(sqlRow) (*string, error) { return &s, nil }
	}
	switch {
	case t.kind == 's' || t.kind == 'n':
		return selectItem{name: "?column?", eval: str(t.text)}, nil
	case t.kind == 'i' && (t.text == "current_user" || t.text == "session_user" || t.text == "user"):
		return selectItem{name: t.text, eval: str(p.role)}, nil
	case t.kind == 'i' && sp.kw("(", ")"):
		switch t.text {
		case "version":
			return selectItem{name: "version", eval: str("PostgreSQL 15.10 (Debian 15.10-0+deb12u1) on x86_64-pc-linux-gnu, " +
				"compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit")}, nil
		case "current_database":
			return selectItem{name: "current_database", eval: str(p.db)}, nil
		case "current_user", "session_user":
			return selectItem{name: t.text, eval: str(p.role)}, nil
		}
		return selectItem{}, &UnsupportedError{What: "SQL function " + t.text + "() in psql"}
	case t.kind == 'i' && t.text != "from" && t.text != "where":
		col := t.text
		return selectItem{name: col, eval: func(r sqlRow) (*string, error) {
			v, ok := r[col]
			if !ok {
				return nil, pgErrorf("column %q does not exist", col)
			}
			return &v, nil
		}}, nil
	}
	sp.pos--
	return selectItem{}, sp.syntaxErr()
}

func (p *psqlSession) condOr(sp *sqlParser) (func(sqlRow) (bool, error), error) {
	left, err := p.condAnd(sp)
	if err != nil {
		return nil, err
	}
	for sp.kw("or") {
		right, err := p.condAnd(sp)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r sqlRow) (bool, error) {
			a, err := l(r)
			if err != nil || a {
				return a, err
			}
			return right(r)
		}
	}
	return left, nil
}

func (p *psqlSession) condAnd(sp *sqlParser) (func(sqlRow) (bool, error), error) {
	left, err := p.condNot(sp)
	if err != nil {
		return nil, err
	}
	for sp.kw("and") {
		right, err := p.condNot(sp)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r sqlRow) (bool, error) {
			a, err := l(r)
			if err != nil || !a {
				return a, err
			}
			return right(r)
		}
	}
	return left, nil
}

func (p *psqlSession) condNot(sp *sqlParser) (func(sqlRow) (bool, error), error) {
	switch {
	case sp.kw("not"):
		c, err := p.condNot(sp)
		if err != nil {
			return nil, err
		}
		return func(r sqlRow) (bool, error) {
			v, err := c(r)
			return !v, err
		}, nil
	case sp.kw("exists", "(", "select"):
		_, table, where, err := p.parseSelectLocked(sp)
		if err != nil {
			return nil, err
		}
		if !sp.kw(")") {
			return nil, sp.syntaxErr()
		}
		return func(sqlRow) (bool, error) {
			rows, err := p.rowsLocked(table, where)
			return len(rows) > 0, err
		}, nil
	case sp.kw("("):
		c, err := p.condOr(sp)
		if err != nil {
			return nil, err
		}
		if !sp.kw(")") {
			return nil, sp.syntaxErr()
		}
		return c, nil
	}
	left, err := p.selectExpr(sp)
	if err != nil {
		return nil, err
	}
	op := sp.next()
	if op.kind != 'p' || (op.text != "=" && op.text != "<>" && op.text != "!=") {
		sp.pos--
		return nil, sp.syntaxErr()
	}
	right, err := p.selectExpr(sp)
	if err != nil {
		return nil, err
	}
	return func(r sqlRow) (bool, error) {
		a, err := left.eval(r)
		if err != nil {
			return false, err
		}
		b, err := right.eval(r)
		if err != nil {
			return false, err
		}
		if a == nil || b == nil {
			return false, nil
		}
		return (*a == *b) == (op.text == "="), nil
	}, nil
}
