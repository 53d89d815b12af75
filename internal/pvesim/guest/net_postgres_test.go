package guest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPsqlAuthErrorsAndStatements(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, errOut, code := b.run(t, "psql -c 'SELECT 1'")
	require.Equal(t, 127, code, "psql needs its package")
	require.Contains(t, errOut, "psql: command not found")

	_, errOut, code = b.run(t, "apt-get install -y postgresql >/dev/null && psql -c 'SELECT 1'")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `FATAL:  role "root" does not exist`)
	_, errOut, code = b.run(t, "psql -U postgres -c 'SELECT 1'")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `FATAL:  Peer authentication failed for user "postgres"`)

	out, errOut, code := b.run(t, `runuser -u postgres -- psql -v ON_ERROR_STOP=1 -v name=shop <<'SQL'
CREATE USER shop WITH PASSWORD 'pw';
CREATE DATABASE :"name" OWNER :"name";
GRANT ALL PRIVILEGES ON DATABASE shop TO shop;
SELECT datname FROM pg_database WHERE datname = :'name';
SQL`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "CREATE ROLE\nCREATE DATABASE\nGRANT\n datname \n---------\n shop\n(1 row)\n\n", out)

	// ON_ERROR_STOP stops at the first error with status 3.
	out, errOut, code = b.run(t, "printf 'CREATE ROLE shop;\\nCREATE ROLE never;\\n' | su postgres -c 'psql -q -v ON_ERROR_STOP=1'")
	require.Equal(t, 3, code)
	require.Empty(t, out)
	require.Equal(t, "psql:<stdin>:1: ERROR:  role \"shop\" already exists\n", errOut)
	_, errOut, code = b.run(t, "su postgres -c 'psql -c \"DROP ROLE shop\"'")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "some objects depend on it")

	// Statements outside the subset fail loudly.
	_, errOut, code = b.run(t, "su postgres -c 'psql -c \"CREATE TABLE t (id int)\"'")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: SQL statement in psql: CREATE TABLE")

	// A stopped server refuses connections.
	_, errOut, code = b.run(t, "systemctl stop postgresql; su postgres -c 'psql -c \"SELECT 1\"'")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "Is the server running locally")
	require.NotContains(t, b.g.PostgresRoles(), PostgresRole{Name: "never"})
}

func TestCurlInstallAndUnitTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, code := b.run(t, "apt-get install -y curl >/dev/null")
	require.Equal(t, 0, code)

	_, errOut, code := b.run(t, "curl -fsS http://localhost:8080/")
	require.Equal(t, 7, code)
	require.Contains(t, errOut, "curl: (7) Failed to connect to localhost port 8080")
	_, errOut, code = b.run(t, "curl -fsSL https://example.com/install.sh | sh")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: curl https://example.com/install.sh")

	// Without -L the GitHub release download is only the redirect.
	url := "https://github.com/coder/code-server/releases/download/v4.96.4/code-server_4.96.4_amd64.deb"
	out, _, code := b.run(t, "curl -fsS -o /tmp/cs.deb "+url+" -w '%{http_code}'; stat -c %s /tmp/cs.deb")
	require.Equal(t, 0, code)
	require.Equal(t, "3020\n", out)

	// The installer's --dry-run only prints what it would run.
	out, errOut, code = b.run(t, "curl -fsSL https://code-server.dev/install.sh | sh -s -- --dry-run")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "+ dpkg -i ~/.cache/code-server/code-server_4.96.4_amd64.deb")
	require.False(t, b.g.Exists("/usr/bin/code-server"))
	_, errOut, code = b.run(t, "curl -fsSL https://code-server.dev/install.sh | sh -s -- --bogus")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "Unknown flag --bogus")

	// The packaged template unit runs per user and reads its config file.
	_, errOut, code = b.run(t, `curl -fsSL https://code-server.dev/install.sh | sh >/dev/null &&
useradd -m dev && install -d -m 0700 -o dev -g dev /home/dev/.config/code-server &&
echo 'bind-addr: 127.0.0.1:9000' > /home/dev/.config/code-server/config.yaml &&
systemctl enable --now code-server@dev`)
	require.Equal(t, 0, code, errOut)
	out, _, _ = b.run(t, "ss -tlnH; systemctl show -p User --value code-server@dev; stat -c '%a %U' /home/dev/.config/code-server")
	require.Contains(t, out, "127.0.0.1:9000")
	require.Contains(t, out, "dev\n700 dev\n")
	require.Contains(t, b.g.InstalledPackages("apt"), "code-server")
}
