package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
)

// createConfirmAction is the action id of the plan card's Create button
// (commands.ActCreateConfirm; Slack rendering may add a "#n" suffix).
const createConfirmAction = "create.confirm"

// createAndConfirm sends `/lxc create TEMPLATE HOST`, finds the Create
// button on the plan card it answers with — in the ack itself or, when the
// plan took longer than the ack may wait, in the post to the command's
// response_url — and presses it with a signed block_actions interaction,
// as a user would. It returns the ack body for diagnostics.
func createAndConfirm(ctx context.Context, e *serveEnv, host, seq string) (string, error) {
	status, body, err := command(ctx, e, "create "+createTemplate+" "+host, e.responseURL(host), seq)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return string(body), fmt.Errorf("create: status %d: %.200s", status, body)
	}
	id, value, ok := findAction(body, createConfirmAction)
	if !ok {
		if id, value, ok = awaitAction(ctx, e.Slack, "/response/"+host, createConfirmAction, 30*time.Second); !ok {
			return string(body), fmt.Errorf("no Create button in the ack or the response_url post within 30 s; ack: %.300s", body)
		}
	}
	return string(body), press(ctx, e, id, value, host)
}

// awaitAction polls the fake's record for a post to path carrying a button
// whose action id is actionID.
func awaitAction(ctx context.Context, s *slackfake.Server, path, actionID string, limit time.Duration) (id, value string, ok bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, c := range s.Calls("response_url") {
			if c.Path != path {
				continue
			}
			if id, value, ok = findAction(c.Body, actionID); ok {
				return id, value, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", "", false
}

// findAction walks any JSON message for an element whose action_id is
// actionID (or actionID#n) and returns that id and its value.
func findAction(raw []byte, actionID string) (id, value string, ok bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", "", false
	}
	var walk func(any) bool
	walk = func(n any) bool {
		switch n := n.(type) {
		case map[string]any:
			if a, _ := n["action_id"].(string); a == actionID || strings.HasPrefix(a, actionID+"#") {
				id, value = a, fmt.Sprint(n["value"])
				return true
			}
			for _, c := range n {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range n {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	ok = walk(v)
	return id, value, ok
}

var actionSeq atomic.Int64

// press sends the signed block_actions interaction Slack sends when the
// bench user presses a button on an ephemeral message in the bench channel.
func press(ctx context.Context, e *serveEnv, actionID, value, host string) error {
	n := actionSeq.Add(1)
	now := time.Now()
	actionTS := fmt.Sprintf("%d.%06d", now.Unix(), n%1_000_000)
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "TBENCH"},
		"user":         map[string]any{"id": benchUser, "name": "bench"},
		"channel":      map[string]any{"id": benchChannel},
		"trigger_id":   fmt.Sprintf("bench.press.%d", n),
		"response_url": e.responseURL("press-" + host),
		"container":    map[string]any{"type": "message", "message_ts": actionTS, "channel_id": benchChannel, "is_ephemeral": true},
		"message":      map[string]any{"ts": actionTS},
		"actions": []map[string]any{{"action_id": actionID, "block_id": "bench", "type": "button",
			"value": value, "action_ts": actionTS}},
	}
	req := slackfake.Signer{Secret: benchSecret}.Interaction("http://"+e.addr+"/slack/interactions", payload)
	resp, err := e.client.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("pressing Create: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pressing Create: status %d: %.200s", resp.StatusCode, b)
	}
	return nil
}
