package slack

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkSlashCommandAck measures the time from a signed slash command to
// its acknowledgement (Slack allows 3 s; the target is a small fraction):
// signature check, body parse, dedupe claim, worker hand-off and the
// router's answer travelling back in the ack. The parallel cases keep 16
// requests in flight per core, as the ack section of make bench does at
// concurrency 16.
func BenchmarkSlashCommandAck(b *testing.B) {
	for _, text := range []string{"help", "list"} {
		b.Run(text, func(b *testing.B) {
			bundle := setupBench(b)
			var n atomic.Int64
			// One kept-alive connection per request in flight, as Slack and
			// the bench's load generator keep them.
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.Cleanup(client.CloseIdleConnections)
			send := func(b *testing.B) {
				trigger := "bench-" + strconv.FormatInt(n.Add(1), 10)
				form := url.Values{"team_id": {team}, "channel_id": {channel}, "user_id": {slackAdmin.UserID}, "text": {text},
					"trigger_id": {trigger}, "response_url": {bundle.fake.ResponseURL(trigger)}}
				resp, err := client.Do(bundle.signer.SlashCommand(bundle.srv.URL+"/slack/commands", form))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					send(b)
				}
			})
			b.Run("parallel16", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						send(b)
					}
				})
			})
		})
	}
}
