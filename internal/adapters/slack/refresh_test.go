package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

// perNodeChoices offers OS templates and storages named after the node they
// were asked for, so a refreshed form shows which node it was filled for.
type perNodeChoices struct {
	*commandstest.Mem
	mu    sync.Mutex
	asked []string
}

func (p *perNodeChoices) NodeChoices(_ context.Context, node string) (*commands.NodeChoices, error) {
	p.mu.Lock()
	p.asked = append(p.asked, node)
	p.mu.Unlock()
	return &commands.NodeChoices{
		OSTemplates: []string{"local:vztmpl/" + node + "-debian-12.tar.zst"},
		Storages:    []string{node + "-zfs"},
		Bridges:     []string{"vmbr0"},
	}, nil
}

func (p *perNodeChoices) nodesAsked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// TestChoosingANodeRefreshesTheCreateFormsDependentFields picks another node
// in the create modal: the node select dispatches its action, and the
// adapter updates the same view (guarded by its hash) with the OS templates
// of the chosen node, under a new block id so Slack drops the old choice.
func TestChoosingANodeRefreshesTheCreateFormsDependentFields(t *testing.T) {
	t.Parallel()
	var choices *perNodeChoices
	b := setup(t, func(o *setupOpts) {
		o.backend = func(m *commandstest.Mem) commands.Backend {
			choices = &perNodeChoices{Mem: m}
			return choices
		}
	})
	resp, _ := b.slash(t, slackOperator, "create", "trig-refresh")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the form", func() bool { return len(b.fake.Calls("views.update")) == 1 })
	var opened struct {
		View   slack.ModalViewRequest `json:"view"`
		ViewID string                 `json:"view_id"`
	}
	require.NoError(t, json.Unmarshal(b.fake.Calls("views.update")[0].JSON, &opened))
	form := blocksText(t, opened.View.Blocks)
	require.Contains(t, form, "pve1-debian-12", "the default node's OS templates")
	require.NotContains(t, form, "pve2-debian-12")
	auditBefore := len(b.mem.AuditEntries())

	pick := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team},
		"user":       map[string]any{"id": slackOperator.UserID, "name": slackOperator.Name},
		"trigger_id": "trig-pick",
		"container":  map[string]any{"type": "view", "view_id": opened.ViewID},
		"view": map[string]any{"id": opened.ViewID, "hash": "hash-1", "type": "modal", "callback_id": opened.View.CallbackID,
			"private_metadata": opened.View.PrivateMetadata, "title": opened.View.Title, "submit": opened.View.Submit,
			"close": opened.View.Close, "blocks": opened.View.Blocks,
			"state": map[string]any{"values": map[string]any{
				"f:template": map[string]any{"template": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "nginx"}}},
				"f:hostname": map[string]any{"hostname": map[string]any{"type": "plain_text_input", "value": "web9"}},
				"f:node":     map[string]any{"node": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "pve2"}}},
			}}},
		"actions": []map[string]any{{"action_id": "node", "block_id": "f:node", "type": "static_select",
			"selected_option": map[string]any{"value": "pve2", "text": map[string]any{"type": "plain_text", "text": "pve2"}},
			"action_ts":       "1700000100.000001"}},
	}
	resp, body := b.do(t, b.signer.Interaction(b.srv.URL+"/slack/interactions", pick))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body, "a select change is acknowledged empty")
	waitFor(t, "the refreshed form", func() bool { return len(b.fake.Calls("views.update")) == 2 })

	upd := b.fake.Calls("views.update")[1]
	require.Equal(t, opened.ViewID, upd.Param("view_id"))
	require.Equal(t, "hash-1", upd.Param("hash"), "the update is guarded by the view's hash")
	var refreshed struct {
		View slack.ModalViewRequest `json:"view"`
	}
	require.NoError(t, json.Unmarshal(upd.JSON, &refreshed))
	require.Equal(t, opened.View.CallbackID, refreshed.View.CallbackID)
	require.Equal(t, opened.View.PrivateMetadata, refreshed.View.PrivateMetadata)
	var osBlock *slack.InputBlock
	for _, blk := range refreshed.View.Blocks.BlockSet {
		if in, ok := blk.(*slack.InputBlock); ok {
			if name, parent, _, _ := parseFieldBlockID(in.BlockID); name == "os_template" {
				require.Equal(t, "node", parent)
				osBlock = in
			}
		}
	}
	require.NotNil(t, osBlock, "the OS template field is still there")
	require.Equal(t, "f:os_template:node:1", osBlock.BlockID, "a new block id resets the old choice")
	sel, ok := osBlock.Element.(*slack.SelectBlockElement)
	require.True(t, ok, "the OS template is a select: %T", osBlock.Element)
	var values []string
	for _, o := range sel.Options {
		values = append(values, o.Value)
	}
	require.Contains(t, values, "local:vztmpl/pve2-debian-12.tar.zst", "the chosen node's OS templates")
	require.NotContains(t, values, "local:vztmpl/pve1-debian-12.tar.zst")
	require.Nil(t, sel.InitialOption)
	require.Equal(t, "pve2", choices.nodesAsked()[len(choices.nodesAsked())-1])
	// The other fields are left as they were.
	require.Contains(t, blocksText(t, refreshed.View.Blocks), `"block_id":"f:hostname"`)
	require.Contains(t, blocksText(t, refreshed.View.Blocks), `"dispatch_action":true`)

	b.drain(t)
	require.Len(t, b.mem.AuditEntries(), auditBefore, "refreshing a form's choices is not a command")
}
