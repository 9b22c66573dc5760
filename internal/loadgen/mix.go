package loadgen

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Action is one kind of thing a simulated player does.
type Action string

// The actions a mix may name.
const (
	ActStatus   Action = "status"    // GET /api/raids/status
	ActRanking  Action = "ranking"   // GET /api/raids/ranking
	ActSearch   Action = "search"    // GET /api/users/search/{nickname}
	ActEnterEnd Action = "enter_end" // POST /api/raids/enter, then PATCH /api/raids/{id}/end when admitted
	ActSignIn   Action = "signin"    // POST /api/users/signin
	ActSignUp   Action = "signup"    // POST /api/users/signup
	ActHealthz  Action = "healthz"   // GET /healthz
)

// Actions lists every action a mix may name.
func Actions() []Action {
	return []Action{ActStatus, ActRanking, ActSearch, ActEnterEnd, ActSignIn, ActSignUp, ActHealthz}
}

// Mix is a weighted choice of actions.
type Mix struct {
	actions []Action
	cum     []int // cumulative weights
}

// ParseMix reads "status=60,ranking=30,enter_end=8,signin=1,signup=1". Weights are
// non-negative integers; at least one must be positive.
func ParseMix(s string) (Mix, error) {
	var m Mix
	total := 0
	seen := map[Action]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		a := Action(strings.TrimSpace(name))
		if !slices.Contains(Actions(), a) {
			return Mix{}, fmt.Errorf("mix: unknown action %q (want one of %v)", name, Actions())
		}
		if seen[a] {
			return Mix{}, fmt.Errorf("mix: %s named twice", a)
		}
		seen[a] = true
		w := 1
		if ok {
			var err error
			w, err = strconv.Atoi(strings.TrimSpace(weight))
			if err != nil || w < 0 || w > 1_000_000 {
				return Mix{}, fmt.Errorf("mix: weight of %s must be an integer from 0 to 1000000", a)
			}
		}
		if w == 0 {
			continue
		}
		total += w
		m.actions = append(m.actions, a)
		m.cum = append(m.cum, total)
	}
	if total == 0 {
		return Mix{}, fmt.Errorf("mix %q: no action has a positive weight", s)
	}
	return m, nil
}

// Pick chooses an action by weight.
func (m Mix) Pick(r *rand.Rand) Action {
	x := r.IntN(m.cum[len(m.cum)-1])
	i, _ := slices.BinarySearch(m.cum, x+1)
	return m.actions[i]
}

// Has reports whether the mix can pick a.
func (m Mix) Has(a Action) bool { return slices.Contains(m.actions, a) }

// Needs reports whether any action of the mix needs signed-in players.
func (m Mix) Needs() (tokens, credentials bool) {
	for _, a := range m.actions {
		switch a {
		case ActStatus, ActRanking, ActSearch, ActEnterEnd:
			tokens = true
		case ActSignIn:
			credentials = true
		}
	}
	return tokens, credentials
}

func (m Mix) String() string {
	var b strings.Builder
	prev := 0
	for i, a := range m.actions {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", a, m.cum[i]-prev)
		prev = m.cum[i]
	}
	return b.String()
}

// CheckTarget refuses a base URL that is not plain http(s) on a loopback host, unless
// allowRemote: a load generator pointed at someone else's server is an attack.
func CheckTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want http://host:port", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("-url %q: give only scheme, host and port", raw)
	}
	u.Path = ""
	if allowRemote || IsLoopback(u.Hostname()) {
		return u, nil
	}
	return nil, fmt.Errorf("-url %q is not a loopback address; load tests target this machine only (pass -allow-remote for a server you own)", raw)
}

// IsLoopback reports whether host is localhost or a loopback IP literal. Names other than
// localhost are not resolved: what they point at can change between check and use.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
