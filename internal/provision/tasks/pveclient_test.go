package tasks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

// pveClient is a minimal Proxmox API client for these tests, speaking the
// simulator's HTTPS API with a pinned certificate and an API token.
type pveClient struct {
	base  string
	token string
	http  *http.Client
}

var _ provision.Proxmox = (*pveClient)(nil)

func newPVEClient(_ context.Context, n provision.Node) (provision.Proxmox, error) {
	return &pveClient{base: n.APIURL, token: n.TokenID + "=" + n.TokenSecret.Reveal(),
		http: pvesim.PinnedHTTPClient(n.TLSFingerprint, 30*time.Second)}, nil
}

func (c *pveClient) do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	u := c.base + path
	if method == http.MethodGet || method == http.MethodDelete {
		if len(form) > 0 {
			u += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "PVEAPIToken="+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
		if strings.Contains(resp.Status, "already exists") || strings.Contains(string(raw), "already exists") {
			return fmt.Errorf("%w: %w", provision.ErrVMIDExists, err)
		}
		if strings.Contains(resp.Status, "does not exist") {
			return fmt.Errorf("%w: %w", provision.ErrNotFound, err)
		}
		return err
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, out)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (c *pveClient) CreateContainer(ctx context.Context, node string, s provision.CreateSpec) (string, error) {
	f := url.Values{
		"vmid": {strconv.Itoa(s.VMID)}, "hostname": {s.Hostname}, "ostemplate": {s.OSTemplate},
		"cores": {strconv.Itoa(s.Cores)}, "memory": {strconv.Itoa(s.MemoryMiB)}, "swap": {strconv.Itoa(s.SwapMiB)},
		"rootfs": {s.RootFS}, "net0": {s.Net0}, "password": {s.Password.Reveal()},
		"unprivileged": {b01(s.Unprivileged)}, "onboot": {b01(s.Onboot)},
		"tags": {strings.Join(s.Tags, ";")}, "description": {s.Description},
	}
	var feats []string
	if s.Nesting {
		feats = append(feats, "nesting=1")
	}
	if s.Keyctl {
		feats = append(feats, "keyctl=1")
	}
	if s.Fuse {
		feats = append(feats, "fuse=1")
	}
	if len(feats) > 0 {
		f.Set("features", strings.Join(feats, ","))
	}
	if s.Nameserver != "" {
		f.Set("nameserver", s.Nameserver)
	}
	if s.SearchDomain != "" {
		f.Set("searchdomain", s.SearchDomain)
	}
	if s.SSHPublicKeys != "" {
		f.Set("ssh-public-keys", s.SSHPublicKeys)
	}
	var upid string
	err := c.do(ctx, http.MethodPost, "/nodes/"+node+"/lxc", f, &upid)
	return upid, err
}

func (c *pveClient) WaitTask(ctx context.Context, node, upid string) error {
	for {
		var st struct {
			Status     string `json:"status"`
			ExitStatus string `json:"exitstatus"`
		}
		if err := c.do(ctx, http.MethodGet, "/nodes/"+node+"/tasks/"+url.PathEscape(upid)+"/status", nil, &st); err != nil {
			return err
		}
		if st.Status == "stopped" {
			if st.ExitStatus != "OK" {
				if strings.Contains(st.ExitStatus, "already exists") {
					return fmt.Errorf("%w: task %s", provision.ErrVMIDExists, st.ExitStatus)
				}
				return fmt.Errorf("task failed: %s", st.ExitStatus)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *pveClient) status(ctx context.Context, node string, vmid int) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/nodes/%s/lxc/%d/status/current", node, vmid), nil, &st)
	return st.Status, err
}

func (c *pveClient) EnsureRunning(ctx context.Context, node string, vmid int) error {
	st, err := c.status(ctx, node, vmid)
	if err != nil {
		return err
	}
	if st != "running" {
		var upid string
		if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/nodes/%s/lxc/%d/status/start", node, vmid), url.Values{}, &upid); err != nil {
			return err
		}
		if err := c.WaitTask(ctx, node, upid); err != nil {
			return err
		}
	}
	if st, err = c.status(ctx, node, vmid); err != nil || st != "running" {
		return fmt.Errorf("CT %d is %q after start: %v", vmid, st, err)
	}
	return nil
}

func (c *pveClient) Destroy(ctx context.Context, node string, vmid int) error {
	if st, err := c.status(ctx, node, vmid); err == nil && st == "running" {
		var upid string
		if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/nodes/%s/lxc/%d/status/stop", node, vmid), url.Values{}, &upid); err != nil {
			return err
		}
		if err := c.WaitTask(ctx, node, upid); err != nil {
			return err
		}
	}
	var upid string
	err := c.do(ctx, http.MethodDelete, fmt.Sprintf("/nodes/%s/lxc/%d", node, vmid), url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}}, &upid)
	if err != nil {
		return err
	}
	return c.WaitTask(ctx, node, upid)
}

func (c *pveClient) Interfaces(ctx context.Context, node string, vmid int) ([]provision.NetInterface, error) {
	var raw []struct {
		Name string `json:"name"`
		Inet string `json:"inet"`
	}
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/nodes/%s/lxc/%d/interfaces", node, vmid), nil, &raw); err != nil {
		return nil, err
	}
	var out []provision.NetInterface
	for _, r := range raw {
		ni := provision.NetInterface{Name: r.Name}
		if r.Inet != "" {
			ni.IPv4 = []string{r.Inet}
		}
		out = append(out, ni)
	}
	return out, nil
}

func (c *pveClient) Description(ctx context.Context, node string, vmid int) (string, error) {
	var cfg struct {
		Description string `json:"description"`
	}
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/nodes/%s/lxc/%d/config", node, vmid), nil, &cfg)
	return cfg.Description, err
}

func (c *pveClient) UsedVMIDs(ctx context.Context) ([]int, error) {
	var res []struct {
		VMID json.Number `json:"vmid"`
	}
	if err := c.do(ctx, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}, &res); err != nil {
		return nil, err
	}
	var out []int
	for _, r := range res {
		if n, err := strconv.Atoi(r.VMID.String()); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func (c *pveClient) VMIDExists(ctx context.Context, vmid int) (bool, error) {
	used, err := c.UsedVMIDs(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range used {
		if v == vmid {
			return true, nil
		}
	}
	return false, nil
}

func (c *pveClient) OSTemplates(ctx context.Context, node string) ([]string, error) {
	var res []struct {
		VolID string `json:"volid"`
	}
	if err := c.do(ctx, http.MethodGet, "/nodes/"+node+"/storage/local/content", url.Values{"content": {"vztmpl"}}, &res); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range res {
		out = append(out, r.VolID)
	}
	return out, nil
}
