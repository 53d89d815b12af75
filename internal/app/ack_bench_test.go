package app

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// BenchmarkRouterAck measures what a slash command's acknowledgement waits
// for in the router over the real backend (Postgres and Redis): parse,
// role lookup, channel binding lookup and the audit entry. It runs with 16
// requests in flight, as the ack section of make bench does.
func BenchmarkRouterAck(b *testing.B) {
	for _, text := range []string{"help", "templates"} {
		b.Run(text, func(b *testing.B) {
			a := newApp(b, appOptions{roles: config.Roles{Operators: []provision.Principal{alice}}})
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp := a.Router().Handle(context.Background(), commands.Request{Principal: alice, Platform: alice.Platform,
						Workspace: "console", Channel: "general", Kind: commands.KindCommand, Text: text,
						DeliveryID: "d" + strconv.FormatInt(n.Add(1), 10), ReceivedAt: time.Now()})
					if resp.Outcome != commands.OutcomeOK {
						b.Fatalf("outcome %s", resp.Outcome)
					}
				}
			})
		})
	}
}
