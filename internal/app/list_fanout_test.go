package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestListReadsLiveStateOncePerNode: /lxc list over many containers on two
// nodes asks each node once for its guests, never once per container.
func TestListReadsLiveStateOncePerNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := startSim(t)
	admin := provision.Principal{Platform: provision.PlatformConsole, UserID: "admin"}
	a := newApp(t, appOptions{nodes: sim.Nodes(), admins: []provision.Principal{admin}})

	hc := pvesim.PinnedHTTPClient(sim.API.Fingerprint(), 10*time.Second)
	n := sim.Nodes()[0]
	post := func(path string, form url.Values) {
		req, err := http.NewRequest(http.MethodPost, sim.APIURL()+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "PVEAPIToken="+n.TokenID+"="+n.TokenSecret.Reveal())
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	const perNode = 6
	for i := 0; i < 2*perNode; i++ {
		node := sim.Cluster.NodeNames()[i%2]
		vmid := 200 + i
		host := fmt.Sprintf("ct%d", i)
		post("/nodes/"+node+"/lxc", url.Values{"vmid": {strconv.Itoa(vmid)}, "hostname": {host},
			"ostemplate": {"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}, "rootfs": {"local-lvm:8"}})
		post(fmt.Sprintf("/nodes/%s/lxc/%d/status/start", node, vmid), nil)
		c := &provision.Container{NodeName: node, VMID: vmid, Hostname: host, TemplateName: "nginx-web",
			Owner: admin, Origin: provision.Origin{Platform: provision.PlatformConsole}}
		require.NoError(t, a.Store().CreateContainer(ctx, c))
		require.NoError(t, a.Store().SetContainerPlacement(ctx, c.ID, node, vmid))
		require.NoError(t, a.Store().TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateReady))
	}
	sim.Cluster.ResetRecord()

	resp := a.Router().Handle(ctx, commands.Request{Principal: admin, Platform: provision.PlatformConsole,
		Workspace: "console", Channel: "console", Kind: commands.KindCommand, Text: "list"})
	text := chattest.AllText(resp)
	require.Contains(t, text, "running", text)
	require.NotContains(t, text, "unknown", text)

	perContainer, perNodeCalls := 0, 0
	for _, r := range sim.Cluster.Requests() {
		switch {
		case strings.Contains(r.Path, "/status/current"):
			perContainer++
		case r.Method == http.MethodGet && (strings.HasSuffix(r.Path, "/lxc") || strings.HasPrefix(r.Path, "/cluster/resources")):
			perNodeCalls++
		}
	}
	require.Zero(t, perContainer, "no per-container round trips")
	require.LessOrEqual(t, perNodeCalls, 2, "one guest listing per node")
	require.Positive(t, perNodeCalls)
}
