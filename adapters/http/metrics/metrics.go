// Package metrics exposes what operators watch at GET /metrics in the Prometheus text format:
// request latencies by route, requests in flight, the game's counters (ports.GameMetrics), the
// database pool and the Go runtime. Everything lives in a private registry, so two servers in
// one process (tests) never share or collide on counters.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/ports"
)

// Path is where the metrics are served.
const Path = "/metrics"

const namespace = "bossraid"

// RouteUnmatched is the route label of every request no route matched (404s, wrong methods).
const RouteUnmatched = "unmatched"

// Metrics is one instance's registry and the instruments in it. It implements
// ports.GameMetrics for the use cases and is a front door serving Path.
type Metrics struct {
	reg *prometheus.Registry

	requestDuration *prometheus.HistogramVec
	inFlight        prometheus.Gauge

	raidsEntered     prometheus.Counter
	raidsCleared     prometheus.Counter
	raidsFailed      prometheus.Counter
	busyRefusals     prometheus.Counter
	rankingRebuilds  prometheus.Counter
	rebuildDuration  prometheus.Histogram
	rankedAtRebuild  prometheus.Gauge
	lastRebuildStamp prometheus.Gauge

	// The raid queue, as the store last judged it: shared by every instance, so reported as
	// read rather than counted here.
	queueLength      prometheus.Gauge
	queueTurnsTaken  prometheus.Gauge
	queueTurnsLapsed prometheus.Gauge
}

var (
	_ ports.GameMetrics = (*Metrics)(nil)
	_ app.QueueMetrics  = (*Metrics)(nil)
)

// New builds the instruments in a fresh registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help: "Time to answer an HTTP request, by route template, method and status code.",
			// From a cached status read (~1 ms) to a slow sign-in or a stalled database (5 s).
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being answered now (live streams included).",
		}),
		raidsEntered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "raids_entered_total",
			Help: "Raids a player entered.",
		}),
		raidsCleared: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "raids_cleared_total",
			Help: "Raids ended in time (success).",
		}),
		raidsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "raids_failed_total",
			Help: "Raids this instance's sweeper recorded as failed after their deadline.",
		}),
		busyRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "raid_enter_busy_total",
			Help: "Entries refused because another player was inside the boss raid.",
		}),
		rankingRebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "ranking_rebuilds_total",
			Help: "Rebuilds of the Redis ranking from Postgres.",
		}),
		rebuildDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "ranking_rebuild_duration_seconds",
			Help:    "Time a ranking rebuild took.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		rankedAtRebuild: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "ranking_rebuild_players",
			Help: "Ranked players the last rebuild wrote.",
		}),
		lastRebuildStamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "ranking_last_rebuild_timestamp_seconds",
			Help: "When the last ranking rebuild finished (Unix time).",
		}),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "queue_length",
			Help: "Players waiting in the raid queue (lapsed turns not counted), as last read.",
		}),
		queueTurnsTaken: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "queue_turns_taken",
			Help: "Turns of the raid queue ever taken (the holder entered), over every instance, as last read.",
		}),
		queueTurnsLapsed: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "queue_turns_lapsed",
			Help: "Turns of the raid queue ever lapsed (the holder did not enter in time), over every instance, as last read.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requestDuration, m.inFlight,
		m.raidsEntered, m.raidsCleared, m.raidsFailed, m.busyRefusals,
		m.rankingRebuilds, m.rebuildDuration, m.rankedAtRebuild, m.lastRebuildStamp,
		m.queueLength, m.queueTurnsTaken, m.queueTurnsLapsed,
	)
	return m
}

// Registry is where every instrument lives; tests gather from it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CollectDB adds the pool statistics of db (open, in use, idle connections, waits) under
// the label db_name.
func (m *Metrics) CollectDB(db *sql.DB, name string) error {
	return m.reg.Register(collectors.NewDBStatsCollector(db, name))
}

// Register serves the metrics at Path on r (the server's root router).
func (m *Metrics) Register(r *mux.Router) {
	r.Handle(Path, m.Handler()).Methods(http.MethodGet, http.MethodHead)
}

// Handler answers scrapes in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// knownMethods are the methods that get a label of their own; any other is "other", so a
// client inventing methods cannot add series.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// Observe is the server's per-request hook: route is the matched path template (so ids and
// nicknames never become labels), "" for a request no route matched, which is labelled
// RouteUnmatched. Methods outside the standard ones are labelled "other".
func (m *Metrics) Observe(route string, next http.Handler) http.Handler {
	if route == "" {
		route = RouteUnmatched
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := methodLabel(r.Method)
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		rec := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			took := time.Since(start).Seconds()
			if v := recover(); v != nil {
				// The server's recovery further out answers 500; count it so, then pass it on.
				m.requestDuration.WithLabelValues(route, method, "500").Observe(took)
				panic(v)
			}
			code := rec.status
			if code == 0 {
				code = http.StatusOK // a handler that writes nothing answers 200
			}
			m.requestDuration.WithLabelValues(route, method, strconv.Itoa(code)).Observe(took)
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusWriter remembers the status code written. Flush and Unwrap keep live streams
// (server-sent events) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data now (http.Flusher), when the underlying writer can.
func (w *statusWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RaidEntered counts a raid a player entered.
func (m *Metrics) RaidEntered() { m.raidsEntered.Inc() }

// RaidCleared counts a raid ended in time.
func (m *Metrics) RaidCleared() { m.raidsCleared.Inc() }

// RaidsFailed counts raids the sweeper recorded as failed.
func (m *Metrics) RaidsFailed(n int) {
	if n > 0 {
		m.raidsFailed.Add(float64(n))
	}
}

// EnterRefusedBusy counts an entry refused because the raid was occupied.
func (m *Metrics) EnterRefusedBusy() { m.busyRefusals.Inc() }

// RankingRebuilt records one rebuild of the ranking.
func (m *Metrics) RankingRebuilt(players int, took time.Duration) {
	m.rankingRebuilds.Inc()
	m.rebuildDuration.Observe(took.Seconds())
	m.rankedAtRebuild.Set(float64(players))
	m.lastRebuildStamp.SetToCurrentTime()
}

// QueueObserved records the raid queue as the store judged it: its length and the turns ever
// taken and lapsed.
func (m *Metrics) QueueObserved(length int, turnsTaken, turnsLapsed int64) {
	m.queueLength.Set(float64(length))
	m.queueTurnsTaken.Set(float64(turnsTaken))
	m.queueTurnsLapsed.Set(float64(turnsLapsed))
}
