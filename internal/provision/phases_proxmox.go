package provision

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// MarkerTag is the Proxmox tag on every container the bot creates.
const MarkerTag = "lxcbot"

// reserve picks the container's VMID: free on Proxmox and not reserved in
// Postgres, claimed by a unique reservation.
func (r *run) reserve(ctx context.Context) error {
	mine, err := r.s.store.VMIDsOf(ctx, r.c.ID)
	if err != nil {
		return err
	}
	if len(mine) > 0 {
		// A resumed job: keep the VMID the interrupted one claimed.
		vmid := mine[len(mine)-1]
		for _, v := range mine[:len(mine)-1] {
			_ = r.s.store.ReleaseVMID(ctx, v)
		}
		return r.place(ctx, vmid)
	}
	pve, err := r.proxmox(ctx)
	if err != nil {
		return err
	}
	if want := r.c.Request.VMID; want != 0 {
		exists, err := pve.VMIDExists(ctx, want)
		if err != nil {
			return fmt.Errorf("checking VMID %d: %w", want, err)
		}
		if exists {
			return Userf(ErrConflict, "VMID %d is already in use on Proxmox: create again with another VMID or none", want)
		}
		if err := r.s.store.ReserveVMID(ctx, want, r.c.ID, r.c.NodeName); err != nil {
			if errors.Is(err, ErrConflict) {
				return Userf(ErrConflict, "VMID %d is already reserved for another container: create again with another VMID or none", want)
			}
			return err
		}
		return r.place(ctx, want)
	}
	vmid, err := r.reserveFree(ctx, pve, nil)
	if err != nil {
		return err
	}
	return r.place(ctx, vmid)
}

// reserveFree reserves the lowest VMID that is neither used on Proxmox nor
// reserved nor in skip.
func (r *run) reserveFree(ctx context.Context, pve Proxmox, skip []int) (int, error) {
	used, err := pve.UsedVMIDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing VMIDs in use: %w", err)
	}
	taken := map[int]bool{}
	for _, v := range append(used, skip...) {
		taken[v] = true
	}
	for range 64 {
		reserved, err := r.s.store.ReservedVMIDs(ctx)
		if err != nil {
			return 0, err
		}
		for _, v := range reserved {
			taken[v] = true
		}
		vmid := 0
		for v := r.s.cfg.VMIDMin; v <= r.s.cfg.VMIDMax; v++ {
			if !taken[v] {
				vmid = v
				break
			}
		}
		if vmid == 0 {
			return 0, permanentf("no free VMID between %d and %d", r.s.cfg.VMIDMin, r.s.cfg.VMIDMax)
		}
		err = r.s.store.ReserveVMID(ctx, vmid, r.c.ID, r.c.NodeName)
		if err == nil {
			return vmid, nil
		}
		if !errors.Is(err, ErrConflict) {
			return 0, err
		}
		taken[vmid] = true // a concurrent job won it: try the next
	}
	return 0, fmt.Errorf("reserving a VMID: too much contention: %w", ErrUnavailable)
}

func (r *run) place(ctx context.Context, vmid int) error {
	if err := r.s.store.SetContainerPlacement(ctx, r.c.ID, r.c.NodeName, vmid); err != nil {
		return err
	}
	r.c.VMID = vmid
	r.log = r.log.With("vmid", vmid, "node", r.c.NodeName)
	return nil
}

// create posts the container to Proxmox and waits for the task. A VMID that
// turns out to be taken by someone else's container is swapped for another;
// one carrying our marker is ours from an interrupted attempt.
func (r *run) create(ctx context.Context) error {
	pve, err := r.proxmox(ctx)
	if err != nil {
		return err
	}
	var tried []int
	for attempt := 1; ; attempt++ {
		err := r.createOnce(ctx, pve)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrVMIDExists) {
			return fmt.Errorf("creating %s (CT %d) on %s: %w", r.c.Hostname, r.c.VMID, r.c.NodeName, err)
		}
		desc, derr := pve.Description(ctx, r.c.NodeName, r.c.VMID)
		if derr == nil && hasMarker(desc, r.c.ID) {
			r.log.InfoContext(ctx, "container already exists and is ours; carrying on")
			return nil
		}
		if r.c.Request.VMID != 0 {
			return Userf(ErrConflict, "VMID %d is already in use on Proxmox: create again with another VMID or none", r.c.VMID)
		}
		if attempt >= r.s.cfg.CreateAttempts {
			return permanentf("creating %s on %s: %d VMIDs in a row were taken by other guests", r.c.Hostname, r.c.NodeName, attempt)
		}
		r.warn(ctx, fmt.Sprintf("VMID %d is used by a guest the bot did not create; trying another", r.c.VMID))
		tried = append(tried, r.c.VMID)
		if err := r.s.store.ReleaseVMID(ctx, r.c.VMID); err != nil {
			return err
		}
		vmid, err := r.reserveFree(ctx, pve, tried)
		if err != nil {
			return err
		}
		if err := r.place(ctx, vmid); err != nil {
			return err
		}
	}
}

func (r *run) createOnce(ctx context.Context, pve Proxmox) error {
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	upid, err := pve.CreateContainer(ctx, r.c.NodeName, r.spec(pw))
	if err != nil {
		return err
	}
	return pve.WaitTask(ctx, r.c.NodeName, upid)
}

// spec builds the creation parameters from the resolved request and the
// template.
func (r *run) spec(pw secret.String) CreateSpec {
	req := r.c.Request
	net0 := fmt.Sprintf("name=eth0,bridge=%s,ip=%s", req.Bridge, req.IP)
	if req.Gateway != "" {
		net0 += ",gw=" + req.Gateway
	}
	return CreateSpec{
		VMID:          r.c.VMID,
		Hostname:      r.c.Hostname,
		OSTemplate:    req.OSTemplate,
		Cores:         req.Cores,
		MemoryMiB:     req.MemoryMiB,
		SwapMiB:       req.SwapMiB,
		RootFS:        fmt.Sprintf("%s:%d", req.Storage, req.DiskGiB),
		Net0:          net0,
		Nameserver:    req.Nameserver,
		SearchDomain:  req.SearchDomain,
		SSHPublicKeys: req.SSHPublicKeys,
		Password:      pw,
		Unprivileged:  r.tpl.Unprivileged,
		Nesting:       r.tpl.Nesting,
		Keyctl:        r.tpl.Keyctl,
		Fuse:          r.tpl.Fuse,
		Onboot:        req.Onboot,
		Tags:          containerTags(r.tpl),
		Description: fmt.Sprintf("Managed by lxcbot: template %s, requested by %s:%s.\n%s\n",
			r.tpl.Name, r.c.Owner.Platform, r.c.Owner.UserID, marker(r.c.ID)),
	}
}

var tagUnsafe = regexp.MustCompile(`[^a-z0-9_.+-]+`)

// containerTags is the marker tag plus the template's name, in Proxmox's
// tag alphabet.
func containerTags(tpl Template) []string {
	tags := []string{MarkerTag}
	if t := strings.Trim(tagUnsafe.ReplaceAllString(strings.ToLower(tpl.Name), "-"), "-"); t != "" && t != MarkerTag {
		tags = append(tags, t)
	}
	return tags
}

// randomPassword is a root password nobody will see: it exists so the
// container never has an empty one. It is neither stored nor logged.
func randomPassword() (secret.String, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating root password: %w", err)
	}
	return secret.String(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

func (r *run) start(ctx context.Context) error {
	pve, err := r.proxmox(ctx)
	if err != nil {
		return err
	}
	if err := pve.EnsureRunning(ctx, r.c.NodeName, r.c.VMID); err != nil {
		return fmt.Errorf("starting %s (CT %d) on %s: %w", r.c.Hostname, r.c.VMID, r.c.NodeName, err)
	}
	return nil
}

// network records the container's address: the static one requested, or
// the first non-loopback IPv4 the container reports. Running out of time is
// a warning: the container works, its address is just unknown.
func (r *run) network(ctx context.Context) error {
	if r.c.Request.IP != "" && r.c.Request.IP != "dhcp" {
		pfx, err := netip.ParsePrefix(r.c.Request.IP)
		if err != nil {
			return permanentf("static address %q is not a CIDR", r.c.Request.IP)
		}
		return r.setIP(ctx, pfx.Addr().String())
	}
	pve, err := r.proxmox(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(r.s.cfg.NetworkWait)
	next := pollWaits(r.s.cfg.NetworkPoll)
	for {
		ifaces, err := pve.Interfaces(ctx, r.c.NodeName, r.c.VMID)
		if err == nil {
			if ip := firstIPv4(ifaces); ip != "" {
				return r.setIP(ctx, ip)
			}
		} else if ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			r.warn(ctx, fmt.Sprintf("no IPv4 address after %s; continuing without one (check DHCP on %s)",
				r.s.cfg.NetworkWait, r.c.Request.Bridge))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next()):
		}
	}
}

func (r *run) setIP(ctx context.Context, ip string) error {
	if err := r.s.store.SetContainerIP(ctx, r.c.ID, ip); err != nil {
		return err
	}
	r.c.IP = ip
	return nil
}

func firstIPv4(ifaces []NetInterface) string {
	for _, ifc := range ifaces {
		if ifc.Name == "lo" {
			continue
		}
		for _, a := range ifc.IPv4 {
			a, _, _ = strings.Cut(a, "/")
			ip, err := netip.ParseAddr(a)
			if err == nil && ip.Is4() && !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast() {
				return ip.String()
			}
		}
	}
	return ""
}
