package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

func TestContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CreateRecordsPendingAndRequestedEvent", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		c := newContainer(t, db, "web01")
		require.NotEmpty(t, c.ID)
		require.Equal(t, provision.StatePending, c.State)

		got, err := db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, provision.StatePending, got.State)
		require.Equal(t, c.Owner, got.Owner)
		require.Equal(t, c.Origin, got.Origin)
		require.Equal(t, c.Request, got.Request)
		require.Zero(t, got.VMID)
		require.Nil(t, got.ReadyAt)

		events, err := db.ListEvents(ctx, c.ID, nil, 0)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Equal(t, provision.EventRequested, events[0].Type)
		require.Equal(t, "slack:U1", events[0].Actor)

		_, err = db.GetContainer(ctx, "no-such-id")
		require.ErrorIs(t, err, provision.ErrNotFound)

		dup := &provision.Container{ID: c.ID, Hostname: "other", Owner: c.Owner, Origin: c.Origin}
		require.ErrorIs(t, db.CreateContainer(ctx, dup), provision.ErrConflict)
	})

	t.Run("LiveHostnamesAreUnique", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		first := newContainer(t, db, "web01")
		again := &provision.Container{Hostname: "WEB01", Owner: first.Owner, Origin: first.Origin}
		require.ErrorIs(t, db.CreateContainer(ctx, again), provision.ErrConflict)
		_, err := db.GetContainer(ctx, again.ID)
		require.ErrorIs(t, err, provision.ErrNotFound, "no row and no event left behind")

		require.NoError(t, db.FailContainer(ctx, first.ID, provision.PhaseCreate, "boom"))
		second := newContainer(t, db, "web01")
		// Retrying the failed one would give two live containers the name.
		err = db.TransitionContainer(ctx, first.ID, []provision.State{provision.StateFailed}, provision.StateCreating)
		require.ErrorIs(t, err, provision.ErrConflict)
		require.NoError(t, db.TransitionContainer(ctx, second.ID, []provision.State{provision.StatePending}, provision.StateCancelled))
		require.NoError(t, db.TransitionContainer(ctx, first.ID, []provision.State{provision.StateFailed}, provision.StateCreating))
	})

	t.Run("TransitionIsCompareAndSet", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		c := newContainer(t, db, "web01")
		pending := []provision.State{provision.StatePending}

		require.NoError(t, db.TransitionContainer(ctx, c.ID, pending, provision.StateCreating))
		err := db.TransitionContainer(ctx, c.ID, pending, provision.StateCreating)
		require.ErrorIs(t, err, provision.ErrConflict)
		require.ErrorContains(t, err, "is creating")

		err = db.TransitionContainer(ctx, "no-such-id", pending, provision.StateCreating)
		require.ErrorIs(t, err, provision.ErrNotFound)

		err = db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateCreating}, "exploded")
		require.ErrorIs(t, err, provision.ErrInvalid)
		_, err = b.raw.Exec(ctx, `UPDATE containers SET state = 'exploded'`)
		require.ErrorContains(t, err, "containers_state_check")

		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateCreating}, provision.StateReady))
		got, err := db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, provision.StateReady, got.State)
		require.NotNil(t, got.ReadyAt)
		require.Nil(t, got.DeletedAt)

		require.NoError(t, db.ReserveVMID(ctx, 104, c.ID, "pve1"))
		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateReady}, provision.StateDeleting))
		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateDeleting}, provision.StateDeleted))
		got, err = db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.NotNil(t, got.DeletedAt)
		ids, err := db.ReservedVMIDs(ctx)
		require.NoError(t, err)
		require.Empty(t, ids, "deleting a container releases its VMID")
	})

	t.Run("FailAndRetry", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		c := newContainer(t, db, "web01")
		require.NoError(t, db.FailContainer(ctx, c.ID, provision.PhaseScripts, "script 20-config.sh exited 1"))
		got, err := db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, provision.StateFailed, got.State)
		require.Equal(t, provision.PhaseScripts, got.FailedPhase)
		require.Equal(t, "script 20-config.sh exited 1", got.LastError)

		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateFailed}, provision.StateCreating))
		got, err = db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Empty(t, got.FailedPhase, "leaving failed clears the failed phase")

		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StateCreating}, provision.StateReady))
		require.ErrorIs(t, db.FailContainer(ctx, c.ID, provision.PhaseReady, "late"), provision.ErrConflict)
		require.ErrorIs(t, db.FailContainer(ctx, "no-such-id", provision.PhaseReady, "x"), provision.ErrNotFound)
		other := newContainer(t, db, "web02")
		require.ErrorIs(t, db.FailContainer(ctx, other.ID, "warp", "x"), provision.ErrInvalid)
	})

	t.Run("Phases", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		c := newContainer(t, db, "web01")
		for _, p := range []provision.Phase{provision.PhaseReserve, provision.PhaseCreate, provision.PhaseCreate,
			provision.PhaseStart, provision.PhaseNetwork, provision.PhaseDeploy} {
			require.NoError(t, db.CompletePhase(ctx, c.ID, p))
		}
		got, err := db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []provision.Phase{"reserve", "create", "start", "network", "deploy"}, got.CompletedPhases,
			"completing a phase twice records it once")

		require.NoError(t, db.ResetPhasesFrom(ctx, c.ID, provision.PhaseStart))
		got, err = db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []provision.Phase{"reserve", "create"}, got.CompletedPhases)
		require.True(t, got.HasPhase(provision.PhaseCreate))

		require.ErrorIs(t, db.CompletePhase(ctx, c.ID, "teleport"), provision.ErrInvalid)
		require.ErrorIs(t, db.ResetPhasesFrom(ctx, c.ID, "teleport"), provision.ErrInvalid)
		require.ErrorIs(t, db.CompletePhase(ctx, "no-such-id", provision.PhaseCreate), provision.ErrNotFound)
		require.ErrorIs(t, db.ResetPhasesFrom(ctx, "no-such-id", provision.PhaseCreate), provision.ErrNotFound)
	})

	t.Run("PlacementIPAndMessage", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		c := newContainer(t, db, "web01")
		require.NoError(t, db.SetContainerPlacement(ctx, c.ID, "pve2", 123))
		require.NoError(t, db.SetContainerIP(ctx, c.ID, "10.0.0.42"))
		origin := provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: "T1", ChannelID: "C1",
			ThreadID: "1700000000.000100", MessageID: "1700000000.000100"}
		require.NoError(t, db.SetContainerMessage(ctx, c.ID, origin))
		got, err := db.GetContainer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "pve2", got.NodeName)
		require.Equal(t, 123, got.VMID)
		require.Equal(t, "10.0.0.42", got.IP)
		require.Equal(t, origin, got.Origin)

		require.ErrorIs(t, db.SetContainerPlacement(ctx, c.ID, "pve2", 5), provision.ErrInvalid, "VMIDs start at 100")
		require.ErrorIs(t, db.SetContainerPlacement(ctx, "no-such-id", "pve2", 123), provision.ErrNotFound)
		require.ErrorIs(t, db.SetContainerIP(ctx, "no-such-id", "x"), provision.ErrNotFound)
		require.ErrorIs(t, db.SetContainerMessage(ctx, "no-such-id", origin), provision.ErrNotFound)
	})

	t.Run("Find", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		web := newContainer(t, db, "web01")
		require.NoError(t, db.SetContainerPlacement(ctx, web.ID, "pve1", 104))

		for _, ref := range []string{"web01", "WEB01", " web01 ", "104"} {
			got, err := db.FindContainer(ctx, ref)
			require.NoError(t, err, ref)
			require.Equal(t, web.ID, got.ID, ref)
		}
		_, err := db.FindContainer(ctx, "105")
		require.ErrorIs(t, err, provision.ErrNotFound)

		// A live container wins over a failed record of the same hostname.
		require.NoError(t, db.FailContainer(ctx, web.ID, provision.PhaseCreate, "x"))
		again := newContainer(t, db, "web01")
		got, err := db.FindContainer(ctx, "web01")
		require.NoError(t, err)
		require.Equal(t, again.ID, got.ID)

		// Deleted containers are not found.
		require.NoError(t, db.TransitionContainer(ctx, again.ID, []provision.State{provision.StatePending}, provision.StateCancelled))
		require.NoError(t, db.TransitionContainer(ctx, web.ID, []provision.State{provision.StateFailed}, provision.StateDeleted))
		got, err = db.FindContainer(ctx, "web01")
		require.NoError(t, err)
		require.Equal(t, again.ID, got.ID, "only the cancelled record is left")
		require.NoError(t, db.TransitionContainer(ctx, again.ID, []provision.State{provision.StateCancelled}, provision.StateGone))
		_, err = db.FindContainer(ctx, "web01")
		require.ErrorIs(t, err, provision.ErrNotFound)

		// A hostname that is another live container's VMID is ambiguous.
		a := newContainer(t, db, "200")
		b := newContainer(t, db, "db01")
		require.NoError(t, db.SetContainerPlacement(ctx, b.ID, "pve1", 200))
		_, err = db.FindContainer(ctx, "200")
		require.ErrorIs(t, err, provision.ErrConflict)
		require.ErrorContains(t, err, "db01")
		require.NotEqual(t, a.ID, b.ID)
	})

	t.Run("ListAndStuck", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		var ids []string
		for i := range 4 {
			c := newContainer(t, db, fmt.Sprintf("ct%d", i))
			ids = append(ids, c.ID)
		}
		bob := &provision.Container{Hostname: "bob1", Owner: provision.Principal{Platform: provision.PlatformDiscord, UserID: "42"},
			Origin: provision.Origin{Platform: provision.PlatformDiscord}}
		require.NoError(t, db.CreateContainer(ctx, bob))
		require.NoError(t, db.SetContainerPlacement(ctx, ids[0], "pve2", 101))
		require.NoError(t, db.TransitionContainer(ctx, ids[1], []provision.State{provision.StatePending}, provision.StateCreating))
		require.NoError(t, db.TransitionContainer(ctx, ids[2], []provision.State{provision.StatePending}, provision.StateCancelled))
		require.NoError(t, db.TransitionContainer(ctx, ids[2], []provision.State{provision.StateCancelled}, provision.StateDeleted))
		// Make creation order explicit: ct0 oldest ... bob newest.
		for i, id := range append(ids, bob.ID) {
			_, err := b.raw.Exec(ctx, `UPDATE containers SET created_at = now() - make_interval(mins => $2) WHERE id = $1`, id, 10-i)
			require.NoError(t, err)
		}

		hosts := func(f store.ContainerFilter) []string {
			t.Helper()
			cs, err := db.ListContainers(ctx, f)
			require.NoError(t, err)
			var out []string
			for _, c := range cs {
				out = append(out, c.Hostname)
			}
			return out
		}
		require.Equal(t, []string{"bob1", "ct3", "ct1", "ct0"}, hosts(store.ContainerFilter{}))
		require.Equal(t, []string{"bob1", "ct3", "ct2", "ct1", "ct0"}, hosts(store.ContainerFilter{IncludeDeleted: true}))
		require.Equal(t, []string{"ct2"}, hosts(store.ContainerFilter{State: provision.StateDeleted}))
		require.Equal(t, []string{"ct0"}, hosts(store.ContainerFilter{Node: "pve2"}))
		require.Equal(t, []string{"ct1"}, hosts(store.ContainerFilter{State: provision.StateCreating}))
		require.Equal(t, []string{"bob1"}, hosts(store.ContainerFilter{OwnerPlatform: provision.PlatformDiscord, OwnerUserID: "42"}))
		require.Equal(t, []string{"ct3", "ct1", "ct0"}, hosts(store.ContainerFilter{OwnerPlatform: provision.PlatformSlack, OwnerUserID: "U1"}))
		require.Equal(t, []string{"ct3", "ct1"}, hosts(store.ContainerFilter{Limit: 2, Offset: 1}))

		_, err := b.raw.Exec(ctx, `UPDATE containers SET updated_at = now() - interval '1 hour' WHERE id = ANY($1)`, []string{ids[1], ids[3]})
		require.NoError(t, err)
		stuck, err := db.ListStuckContainers(ctx, []provision.State{provision.StateCreating, provision.StatePending}, time.Now().Add(-30*time.Minute))
		require.NoError(t, err)
		require.Len(t, stuck, 2)
		require.ElementsMatch(t, []string{ids[1], ids[3]}, []string{stuck[0].ID, stuck[1].ID})
		stuck, err = db.ListStuckContainers(ctx, []provision.State{provision.StateCreating}, time.Now().Add(-30*time.Minute))
		require.NoError(t, err)
		require.Len(t, stuck, 1)
	})
}

func TestVMIDReservations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ReserveReleaseList", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		c := newContainer(t, db, "web01")
		require.NoError(t, db.ReserveVMID(ctx, 104, c.ID, "pve1"))
		err := db.ReserveVMID(ctx, 104, c.ID, "pve2")
		require.ErrorIs(t, err, provision.ErrConflict, "a VMID is unique across the cluster")
		require.ErrorContains(t, err, "reserving vmid 104")
		require.ErrorIs(t, db.ReserveVMID(ctx, 105, "no-such-id", "pve1"), provision.ErrNotFound)
		require.ErrorIs(t, db.ReserveVMID(ctx, 42, c.ID, "pve1"), provision.ErrInvalid)
		require.NoError(t, db.ReserveVMID(ctx, 101, c.ID, "pve1"))

		ids, err := db.ReservedVMIDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []int{101, 104}, ids)
		mine, err := db.VMIDsOf(ctx, c.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, []int{101, 104}, mine)

		require.NoError(t, db.ReleaseVMID(ctx, 104))
		require.NoError(t, db.ReleaseVMID(ctx, 104), "releasing twice is harmless")
		ids, err = db.ReservedVMIDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []int{101}, ids)

		_, err = b.raw.Exec(ctx, `INSERT INTO vmid_reservations (vmid, container_id) VALUES (101, $1)`, c.ID)
		require.ErrorContains(t, err, "vmid_reservations_vmid_key")
	})

	t.Run("ConcurrentReservationsHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		const racers = 16
		cs := make([]*provision.Container, racers)
		for i := range cs {
			cs[i] = newContainer(t, db, fmt.Sprintf("racer%d", i))
		}
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = db.ReserveVMID(ctx, 300, cs[i].ID, "pve1")
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for _, err := range errs {
			if err == nil {
				winners++
				continue
			}
			require.ErrorIs(t, err, provision.ErrConflict)
		}
		require.Equal(t, 1, winners)
		ids, err := db.ReservedVMIDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []int{300}, ids)
	})
}
