package proxmox

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// DefaultBridge is the bridge every PVE installation creates.
const DefaultBridge = "vmbr0"

// DomainSource resolves a node name into its API; nodepool.Pool is one.
type DomainSource interface {
	Domain(ctx context.Context, node string) (*Domain, error)
}

// Choices answers what a create form offers once a node is chosen: the OS
// templates and container storages the node's API lists, and bridges.
//
// The API subset lxcbot uses has no network endpoint, so bridges are not
// read from the node: the form offers the bridges named in configuration
// (Bridges, e.g. the templates' bridges) plus DefaultBridge.
type Choices struct {
	Nodes DomainSource
	// Bridges lists the configured bridge names; nil offers only
	// DefaultBridge.
	Bridges func(ctx context.Context) ([]string, error)
}

// NodeChoices lists what the create form offers for node.
func (c *Choices) NodeChoices(ctx context.Context, node string) (*commands.NodeChoices, error) {
	d, err := c.Nodes.Domain(ctx, node)
	if errors.Is(err, provision.ErrNotFound) {
		return nil, provision.Userf(provision.ErrNotFound, "no node %q: see /lxc nodes", node)
	}
	if err != nil {
		return nil, fmt.Errorf("listing choices on %s: %w", node, err)
	}
	out := &commands.NodeChoices{}
	if out.OSTemplates, err = d.OSTemplates(ctx, node); err != nil {
		return nil, fmt.Errorf("listing OS templates on %s: %w", node, err)
	}
	if out.Storages, err = d.RootStorages(ctx, node); err != nil {
		return nil, fmt.Errorf("listing storages on %s: %w", node, err)
	}
	out.Bridges = []string{DefaultBridge}
	if c.Bridges != nil {
		named, err := c.Bridges(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing configured bridges: %w", err)
		}
		for _, b := range named {
			if b != "" && !slices.Contains(out.Bridges, b) {
				out.Bridges = append(out.Bridges, b)
			}
		}
	}
	return out, nil
}
