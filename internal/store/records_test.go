package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	c := newContainer(t, db, "web01")

	for _, e := range []provision.Event{
		{Type: provision.EventPhaseStarted, Phase: provision.PhaseCreate, Actor: "system"},
		{Type: provision.EventPhaseFinished, Phase: provision.PhaseCreate, Duration: 2500 * time.Millisecond},
		{Type: provision.EventWarning, Message: "no IPv4 after 60s", Data: map[string]any{"timeout_sec": float64(60)}},
		{Type: provision.EventAction, Message: "stopped", Actor: "slack:U2"},
	} {
		e.ContainerID = c.ID
		require.NoError(t, db.AppendEvent(ctx, &e))
		require.NotZero(t, e.ID)
		require.False(t, e.CreatedAt.IsZero())
	}

	all, err := db.ListEvents(ctx, c.ID, nil, 0)
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, provision.EventRequested, all[0].Type, "oldest first")
	require.Equal(t, 2500*time.Millisecond, all[2].Duration)
	require.Equal(t, provision.PhaseCreate, all[2].Phase)
	require.Equal(t, map[string]any{"timeout_sec": float64(60)}, all[3].Data)
	require.Nil(t, all[4].Data)

	phases, err := db.ListEvents(ctx, c.ID, []provision.EventType{provision.EventPhaseStarted, provision.EventPhaseFinished}, 0)
	require.NoError(t, err)
	require.Len(t, phases, 2)

	latest, err := db.ListEvents(ctx, c.ID, nil, 2)
	require.NoError(t, err)
	require.Equal(t, []provision.EventType{provision.EventWarning, provision.EventAction},
		[]provision.EventType{latest[0].Type, latest[1].Type}, "the latest entries, in order")

	none, err := db.ListEvents(ctx, c.ID, []provision.EventType{provision.EventDrift}, 0)
	require.NoError(t, err)
	require.Empty(t, none)

	_, err = db.ListEvents(ctx, "no-such-id", nil, 0)
	require.ErrorIs(t, err, provision.ErrNotFound)
	require.ErrorIs(t, db.AppendEvent(ctx, &provision.Event{ContainerID: "no-such-id", Type: provision.EventAction}), provision.ErrNotFound)
	require.ErrorIs(t, db.AppendEvent(ctx, &provision.Event{ContainerID: c.ID, Type: "gossip"}), provision.ErrInvalid)
}

func TestServices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)
	c := newContainer(t, db, "web01")

	require.NoError(t, db.ReplaceServices(ctx, c.ID, []provision.Service{
		{Unit: "ssh.service", Kind: provision.ServiceSystem, Status: "active", Ports: []int{22}},
		{Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80, 443}, URL: "http://10.0.0.42:80"},
		{Unit: "cron.service", Kind: provision.ServiceSystem, Status: "active"},
	}))
	got, err := db.ListServices(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, "nginx.service", got[0].Unit, "application services first")
	require.Equal(t, []int{80, 443}, got[0].Ports)
	require.Equal(t, "http://10.0.0.42:80", got[0].URL)
	require.Equal(t, []string{"cron.service", "ssh.service"}, []string{got[1].Unit, got[2].Unit})
	require.Empty(t, got[1].Ports)

	// A bad entry rolls the whole replacement back.
	err = db.ReplaceServices(ctx, c.ID, []provision.Service{{Unit: "x.service", Kind: "daemon"}})
	require.ErrorIs(t, err, provision.ErrInvalid)
	got, err = db.ListServices(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got, 3)

	require.NoError(t, db.ReplaceServices(ctx, c.ID, []provision.Service{{Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "failed"}}))
	got, err = db.ListServices(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "failed", got[0].Status)

	dup := []provision.Service{{Unit: "a", Kind: provision.ServiceSystem}, {Unit: "a", Kind: provision.ServiceSystem}}
	require.ErrorIs(t, db.ReplaceServices(ctx, c.ID, dup), provision.ErrConflict)
	require.ErrorIs(t, db.ReplaceServices(ctx, "no-such-id", nil), provision.ErrNotFound)
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, b := setup(t)
	c := newContainer(t, db, "web01")
	other := newContainer(t, db, "web02")

	const dbPass = "pg-Sup3r-secret-password"
	require.NoError(t, db.ReplaceCredentials(ctx, c.ID, []provision.Credential{
		{Service: "postgres", Key: "PASSWORD", Value: dbPass},
		{Service: "postgres", Key: "USER", Value: "app"},
		{Service: "grafana", Key: "ADMIN_PASSWORD", Value: "graf-secret"},
	}))

	all, err := db.ListCredentials(ctx, c.ID, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, "grafana", all[0].Service)
	require.Equal(t, "graf-secret", all[0].Value.Reveal())
	pg, err := db.ListCredentials(ctx, c.ID, "postgres")
	require.NoError(t, err)
	require.Len(t, pg, 2)
	require.Equal(t, "PASSWORD", pg[0].Key)
	require.Equal(t, dbPass, pg[0].Value.Reveal())

	rows, err := b.raw.Query(ctx, `SELECT value FROM credentials`)
	require.NoError(t, err)
	for rows.Next() {
		var sealed []byte
		require.NoError(t, rows.Scan(&sealed))
		for _, plain := range []string{dbPass, "graf-secret", "app"} {
			require.False(t, bytes.Contains(sealed, []byte(plain)), "plaintext credential stored")
		}
	}
	require.NoError(t, rows.Err())

	// A sealed value moved to another container does not open there.
	_, err = b.raw.Exec(ctx, `INSERT INTO credentials (container_id, service, key, value)
		SELECT $2, service, key, value FROM credentials WHERE container_id = $1`, c.ID, other.ID)
	require.NoError(t, err)
	_, err = db.ListCredentials(ctx, other.ID, "postgres")
	require.Error(t, err)
	require.NotContains(t, err.Error(), dbPass)

	require.NoError(t, db.ReplaceCredentials(ctx, c.ID, []provision.Credential{{Service: "redis", Key: "PASSWORD", Value: "r"}}))
	all, err = db.ListCredentials(ctx, c.ID, "")
	require.NoError(t, err)
	require.Len(t, all, 1)
	none, err := db.ListCredentials(ctx, c.ID, "postgres")
	require.NoError(t, err)
	require.Empty(t, none)

	require.ErrorIs(t, db.ReplaceCredentials(ctx, "no-such-id", nil), provision.ErrNotFound)
	err = db.ReplaceCredentials(ctx, c.ID, []provision.Credential{{Service: "", Key: "K", Value: dbPass}})
	require.ErrorIs(t, err, provision.ErrInvalid)
	require.NotContains(t, err.Error(), dbPass)
}
