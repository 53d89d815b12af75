package slack

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// BenchmarkSlashCommandAck measures the time from a signed /lxc list to its
// acknowledgement (Slack allows 3 s; the target is a small fraction).
func BenchmarkSlashCommandAck(b *testing.B) {
	bundle := setupBench(b)
	b.ResetTimer()
	for i := range b.N {
		trigger := "bench-" + strconv.Itoa(i)
		form := url.Values{"team_id": {team}, "channel_id": {channel}, "user_id": {slackAdmin.UserID}, "text": {"list"},
			"trigger_id": {trigger}, "response_url": {bundle.fake.ResponseURL(trigger)}}
		resp, err := http.DefaultClient.Do(bundle.signer.SlashCommand(bundle.srv.URL+"/slack/commands", form))
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
