package slack

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// TestABusyChannelDoesNotHoldOtherChannels: public posts wait for their
// channel's pacing off the request workers, so a backlog in one channel
// neither blocks the caller nor delays another channel's answer.
func TestABusyChannelDoesNotHoldOtherChannels(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) {
		o.cfg = func(c *Config) {
			c.Workers, c.ChannelInterval, c.ChannelBurst = 1, 150*time.Millisecond, 1
		}
	})
	const backlog = 20
	busy := &origin{team: team, channel: "CBUSY", user: slackAdmin.UserID}
	for range backlog {
		b.adapter.deliver(context.Background(), busy, commands.Request{},
			commands.Response{Visibility: commands.InChannel, Blocks: []commands.Block{commands.TextBlock("backlog")}})
	}
	quiet := &origin{team: team, channel: "CQUIET", user: slackAdmin.UserID}
	b.adapter.deliver(context.Background(), quiet, commands.Request{},
		commands.Response{Visibility: commands.InChannel, Blocks: []commands.Block{commands.TextBlock("answer")}})

	posted := func(ch string) int {
		n := 0
		for _, c := range b.fake.Calls("chat.postMessage") {
			if c.Param("channel") == ch {
				n++
			}
		}
		return n
	}
	waitFor(t, "the quiet channel's answer", func() bool { return posted("CQUIET") == 1 })
	require.Less(t, posted("CBUSY"), backlog, "the quiet channel did not wait for the busy one's backlog")
	waitFor(t, "the whole backlog, in the end", func() bool { return posted("CBUSY") == backlog })
}
