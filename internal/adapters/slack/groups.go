package slack

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// groupCache remembers which user groups each user belongs to, so that a
// role bound to a Slack user group applies without one API call per
// request. A failed refresh leaves no groups until the next try.
type groupCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	fetched time.Time
	byUser  map[string][]string
}

// groupsOf returns the user group ids of user, refreshing the cache when
// it is older than its ttl.
func (a *Adapter) groupsOf(ctx context.Context, user string) []string {
	c := a.groups
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byUser == nil || a.now().Sub(c.fetched) >= c.ttl {
		c.fetched = a.now()
		byUser := map[string][]string{}
		// One quick try: requests wait for this, and a retry comes with the
		// next refresh.
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		groups, err := a.api.GetUserGroupsContext(lctx, slack.GetUserGroupsOptionIncludeUsers(true))
		cancel()
		if err != nil {
			a.log.WarnContext(ctx, "reading user groups; roles bound to groups do not apply until the next try", "err", err)
		}
		for _, g := range groups {
			for _, u := range g.Users {
				byUser[u] = append(byUser[u], g.ID)
			}
		}
		c.byUser = byUser
	}
	return c.byUser[user]
}
