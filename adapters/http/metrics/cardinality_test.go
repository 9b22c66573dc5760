package metrics_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/metrics"
	"github.com/bossraid/bossraid/internal/testenv"
)

// An attacker who invents methods or paths must not add a series per request.
func TestInventedMethodsAndPathsAddNoSeries(t *testing.T) {
	m := metrics.New()
	st := newStack(t, m, testenv.StackOptions{})
	var templates []string
	_ = st.HTTP.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if tpl, err := route.GetPathTemplate(); err == nil {
			templates = append(templates, tpl)
		}
		return nil
	})
	paths := []string{"/api/raids/status", "/api/users/signin", "/api/raids/7/end", "/healthz", "/metrics"}
	attack := func(from, to int) {
		for i := from; i < to; i++ {
			method := fmt.Sprintf("A%03dX", i)
			for _, p := range paths {
				call(t, st.URL, method, p, "", "")
			}
			call(t, st.URL, http.MethodGet, fmt.Sprintf("/no/such/page/%d", i), "", "")
			call(t, st.URL, method, fmt.Sprintf("/api/nothing/%d", i), "", "")
		}
	}
	series := func() int {
		fam := gather(t, m)["bossraid_http_request_duration_seconds"]
		if fam == nil {
			return 0
		}
		return len(fam.GetMetric())
	}
	attack(0, 5)
	first := series()
	attack(5, 60)
	if got := series(); got != first {
		t.Errorf("request series grew from %d to %d with invented methods and paths", first, got)
	}
	known := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"}
	for _, s := range gather(t, m)["bossraid_http_request_duration_seconds"].GetMetric() {
		for _, l := range s.GetLabel() {
			switch l.GetName() {
			case "method":
				if !slices.Contains(known, l.GetValue()) {
					t.Errorf("method label %q", l.GetValue())
				}
			case "route":
				if l.GetValue() != metrics.RouteUnmatched && !slices.Contains(templates, l.GetValue()) {
					t.Errorf("route label %q is no route template", l.GetValue())
				}
			}
		}
	}
}
