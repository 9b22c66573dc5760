package check

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	base       = "../base"
	production = "../overlays/production"
)

func TestBase(t *testing.T) {
	app := readApp(t)
	m := render(t, base)
	checkApp(t, app, m)

	// The placeholder Secret must never work as a real key: the server refuses a SECRET_KEY
	// under 32 characters (cmd/bossraid/config.go).
	s, ok := m.secrets["bossraid"]
	if !ok {
		t.Fatal("base: no placeholder Secret bossraid")
	}
	if key := s.StringData["SECRET_KEY"]; len(key) >= 32 {
		t.Errorf("base Secret: the placeholder SECRET_KEY %q is long enough to be accepted; keep it under 32 characters", key)
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL"} {
		if !strings.Contains(s.StringData[name], ".invalid") {
			t.Errorf("base Secret: placeholder %s=%q should name a .invalid host", name, s.StringData[name])
		}
	}
}

func TestProductionOverlay(t *testing.T) {
	app := readApp(t)
	m := render(t, production)
	checkApp(t, app, m)

	if len(m.secrets) != 0 {
		t.Errorf("production overlay renders Secrets %v: applying it would overwrite the real one", keys(mapKeys(m.secrets)))
	}
	for _, d := range m.deployments {
		checkPinned(t, "Deployment "+d.Name, d.Spec.Template.Spec)
		if d.Namespace != "bossraid" {
			t.Errorf("Deployment %s: namespace %q, want bossraid", d.Name, d.Namespace)
		}
	}
	for _, j := range m.jobs {
		checkPinned(t, "Job "+j.Name, j.Spec.Template.Spec)
	}
	if len(m.namespaces) != 1 || m.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("production overlay: want one Namespace enforcing the restricted Pod Security Standard")
	}

	if len(m.serviceMonitors) != 1 {
		t.Fatalf("production overlay: %d ServiceMonitors, want 1", len(m.serviceMonitors))
	}
	sm := m.serviceMonitors[0]
	svc := onlyService(t, m)
	if !selects(t, &sm.Spec.Selector, svc.Labels) {
		t.Errorf("ServiceMonitor %s selects %v; the Service's labels are %v", sm.Name, sm.Spec.Selector, svc.Labels)
	}
	if len(sm.Spec.Endpoints) == 0 {
		t.Fatal("ServiceMonitor: no endpoints")
	}
	for _, ep := range sm.Spec.Endpoints {
		if ep.Path != app.metricsPath {
			t.Errorf("ServiceMonitor endpoint path %q, want the server's %q", ep.Path, app.metricsPath)
		}
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
			t.Errorf("ServiceMonitor endpoint port %q is not a port name of Service %s", ep.Port, svc.Name)
		}
		checkScrapeTimeout(t, ep)
	}
}

// checkApp holds what any rendering of the manifests must satisfy.
func checkApp(t *testing.T, app appFacts, m manifests) {
	t.Helper()
	if len(m.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(m.deployments))
	}
	d := m.deployments[0]
	pod := d.Spec.Template.Spec
	c := onlyContainer(t, "Deployment "+d.Name, pod)

	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("Deployment %s: replicas %s, want at least 2", d.Name, ptrText(d.Spec.Replicas))
	}
	if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Deployment %s: its selector does not match its own pod labels", d.Name)
	}
	if !slices.Equal(c.Args, []string{"serve"}) || len(c.Command) > 0 {
		t.Errorf("Deployment %s: command %v args %v; want no command (ENTRYPOINT %s) and args [serve]", d.Name, c.Command, c.Args, app.entrypoint)
	}

	// Ports: the containerPort is HTTP_ADDR's port and the image's EXPOSE.
	env := effectiveEnv(t, "Deployment "+d.Name, c, m)
	checkEnvNames(t, "Deployment "+d.Name, app, c, m)
	_, portText, err := net.SplitHostPort(env["HTTP_ADDR"])
	if err != nil {
		t.Fatalf("Deployment %s: HTTP_ADDR=%q: %v", d.Name, env["HTTP_ADDR"], err)
	}
	listen, _ := strconv.Atoi(portText)
	if host, _, _ := net.SplitHostPort(env["HTTP_ADDR"]); host != "0.0.0.0" && host != "" && host != "::" {
		t.Errorf("Deployment %s: HTTP_ADDR=%q listens on one address only; probes and the Service reach the pod IP", d.Name, env["HTTP_ADDR"])
	}
	httpPort := containerPort(c, "http")
	if httpPort == 0 || int(httpPort) != listen || listen != app.exposed {
		t.Errorf("Deployment %s: containerPort http=%d, HTTP_ADDR port %d, Dockerfile EXPOSE %d: all three must agree", d.Name, httpPort, listen, app.exposed)
	}
	if env["APP_ENV"] != "production" {
		t.Errorf("Deployment %s: APP_ENV=%q, want production", d.Name, env["APP_ENV"])
	}

	// Probes: the server's own paths, on the serving port.
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, "/healthz"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("Deployment %s: no HTTP %s probe", d.Name, p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || !app.routes[g.Path] {
			t.Errorf("Deployment %s: %s probe on %q, want %q (a route adapters/http registers)", d.Name, p.name, g.Path, p.path)
		}
		if port := resolvePort(c, g.Port); port != listen {
			t.Errorf("Deployment %s: %s probe on port %s = %d, the server listens on %d", d.Name, p.name, g.Port.String(), port, listen)
		}
	}

	// Shutdown: readiness must fail long enough before the listener closes, and the grace
	// period must cover the whole shutdown.
	delay := envDuration(t, env, "SHUTDOWN_DELAY")
	timeout := envDuration(t, env, "SHUTDOWN_TIMEOUT")
	if r := c.ReadinessProbe; r != nil {
		if seen := time.Duration(r.PeriodSeconds*r.FailureThreshold) * time.Second; delay < seen {
			t.Errorf("Deployment %s: SHUTDOWN_DELAY=%s is shorter than the readiness probe's period × failureThreshold = %s: the listener would close before every balancer saw the pod go unready", d.Name, delay, seen)
		}
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Errorf("Deployment %s: no terminationGracePeriodSeconds", d.Name)
	} else if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace < delay+timeout {
		t.Errorf("Deployment %s: terminationGracePeriodSeconds %s < SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT = %s: SIGKILL would cut requests off", d.Name, grace, delay+timeout)
	}

	// Memory: the Go soft limit below the container's limit.
	checkResources(t, "Deployment "+d.Name, c)
	if raw, ok := env["GOMEMLIMIT"]; ok {
		soft, err := parseGoMemLimit(raw)
		limit := c.Resources.Limits.Memory().Value()
		switch {
		case err != nil:
			t.Errorf("Deployment %s: GOMEMLIMIT=%q: %v", d.Name, raw, err)
		case float64(soft) > 0.9*float64(limit):
			t.Errorf("Deployment %s: GOMEMLIMIT=%s is over 90 %% of the memory limit %s: the GC would not act before the OOM killer", d.Name, raw, c.Resources.Limits.Memory())
		}
	}

	checkPodSecurity(t, app, "Deployment "+d.Name, pod)

	// Scrape annotations point at the metrics the server serves.
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != app.metricsPath || ann["prometheus.io/port"] != strconv.Itoa(listen) {
		t.Errorf("Deployment %s: prometheus.io annotations %v, want scrape=true path=%s port=%d", d.Name, ann, app.metricsPath, listen)
	}

	// The Service sends traffic to these pods and only these.
	svc := onlyService(t, m)
	sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
	if len(svc.Spec.Selector) == 0 || !selects(t, sel, d.Spec.Template.Labels) {
		t.Errorf("Service %s: selector %v does not match the Deployment's pods %v", svc.Name, svc.Spec.Selector, d.Spec.Template.Labels)
	}
	for _, p := range svc.Spec.Ports {
		if resolvePort(c, p.TargetPort) != listen {
			t.Errorf("Service %s: port %s targets %s, not the server's port %d", svc.Name, p.Name, p.TargetPort.String(), listen)
		}
	}

	// The PodDisruptionBudget covers the Deployment's pods and leaves one running.
	if len(m.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(m.pdbs))
	}
	pdb := m.pdbs[0]
	if !selects(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget %s: selector %v does not match the Deployment's pods %v", pdb.Name, pdb.Spec.Selector, d.Spec.Template.Labels)
	}
	switch {
	case pdb.Spec.MaxUnavailable != nil && pdb.Spec.MinAvailable == nil:
		if v := pdb.Spec.MaxUnavailable; v.Type != intstr.Int || v.IntVal < 1 || d.Spec.Replicas == nil || v.IntVal >= *d.Spec.Replicas {
			t.Errorf("PodDisruptionBudget %s: maxUnavailable %s, want a number from 1 to replicas-1", pdb.Name, v.String())
		}
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable == nil:
		if v := pdb.Spec.MinAvailable; v.Type != intstr.Int || v.IntVal < 1 || d.Spec.Replicas == nil || v.IntVal >= *d.Spec.Replicas {
			t.Errorf("PodDisruptionBudget %s: minAvailable %s, want a number from 1 to replicas-1 (or drains block)", pdb.Name, v.String())
		}
	default:
		t.Errorf("PodDisruptionBudget %s: want exactly one of minAvailable and maxUnavailable", pdb.Name)
	}

	// The HPA scales this Deployment on CPU, which needs a CPU request.
	if len(m.hpas) != 1 {
		t.Fatalf("%d HorizontalPodAutoscalers, want 1", len(m.hpas))
	}
	hpa := m.hpas[0]
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HPA %s targets %s %s %s, want apps/v1 Deployment %s", hpa.Name, ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Errorf("HPA %s: replicas %s…%d, want a minimum of at least 2 and a maximum above it", hpa.Name, ptrText(hpa.Spec.MinReplicas), hpa.Spec.MaxReplicas)
	}
	onCPU := slices.ContainsFunc(hpa.Spec.Metrics, func(mt autoscalingMetric) bool {
		return mt.Resource != nil && mt.Resource.Name == corev1.ResourceCPU && mt.Resource.Target.AverageUtilization != nil
	})
	if !onCPU {
		t.Errorf("HPA %s: no CPU utilization target", hpa.Name)
	}

	// The migration Job: the same image, `migrate up`, the database URL, and pods that no
	// Service, budget or Deployment mistakes for servers.
	if len(m.jobs) != 1 {
		t.Fatalf("%d Jobs, want the one migration Job", len(m.jobs))
	}
	job := m.jobs[0]
	jc := onlyContainer(t, "Job "+job.Name, job.Spec.Template.Spec)
	if !slices.Equal(jc.Args, []string{"migrate", "up"}) || len(jc.Command) > 0 {
		t.Errorf("Job %s: command %v args %v, want args [migrate up]", job.Name, jc.Command, jc.Args)
	}
	if jc.Image != c.Image {
		t.Errorf("Job %s runs image %q, the Deployment %q: migrate with the release you serve", job.Name, jc.Image, c.Image)
	}
	if rp := job.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		t.Errorf("Job %s: restartPolicy %q", job.Name, rp)
	}
	jenv := effectiveEnv(t, "Job "+job.Name, jc, m)
	checkEnvNames(t, "Job "+job.Name, app, jc, m)
	if jenv["APP_ENV"] != "production" || !referencesSecret(jc, "bossraid") {
		t.Errorf("Job %s: needs APP_ENV=production and the Secret bossraid (DATABASE_URL, SECRET_KEY)", job.Name)
	}
	checkResources(t, "Job "+job.Name, jc)
	checkPodSecurity(t, app, "Job "+job.Name, job.Spec.Template.Spec)
	jobPods := job.Spec.Template.Labels
	if selects(t, d.Spec.Selector, jobPods) || selects(t, pdb.Spec.Selector, jobPods) || selects(t, sel, jobPods) {
		t.Errorf("Job %s: its pods %v are selected by the Deployment, the Service or the budget", job.Name, jobPods)
	}

	if m.count == 0 {
		t.Fatal("rendered nothing")
	}
}

type autoscalingMetric = autoscalingv2.MetricSpec

// checkEnvNames refuses a variable the binary does not read: a typo there is silently ignored.
func checkEnvNames(t *testing.T, what string, app appFacts, c corev1.Container, m manifests) {
	t.Helper()
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			if cm, ok := m.configMaps[from.ConfigMapRef.Name]; ok {
				names = append(names, keys(mapKeys(cm.Data))...)
			}
		case from.SecretRef != nil:
			if s, ok := m.secrets[from.SecretRef.Name]; ok {
				names = append(names, keys(mapKeys(s.StringData))...)
				names = append(names, keys(mapKeys(s.Data))...)
				for _, must := range []string{"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} {
					_, inString := s.StringData[must]
					_, inData := s.Data[must]
					if !inString && !inData {
						t.Errorf("%s: Secret %s has no %s", what, s.Name, must)
					}
				}
			}
		}
		if from.Prefix != "" {
			t.Errorf("%s: envFrom with prefix %q renames every setting", what, from.Prefix)
		}
	}
	for _, name := range names {
		if !app.settings[name] {
			t.Errorf("%s: environment variable %s is not read by bossraid (cmd/bossraid/config.go lists %v)", what, name, sortedKeys(app.settings))
		}
	}
}

// effectiveEnv is the container's environment as the kubelet builds it: envFrom in order,
// then env. Values from a Secret that is not rendered (created by hand) are absent.
func effectiveEnv(t *testing.T, what string, c corev1.Container, m manifests) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := m.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("%s: envFrom names ConfigMap %s, which is not in the manifests", what, from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			if s, ok := m.secrets[from.SecretRef.Name]; ok {
				for k, v := range s.StringData {
					env[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("%s: %s comes from valueFrom; keep settings literal or in the ConfigMap/Secret", what, e.Name)
			continue
		}
		env[e.Name] = e.Value
	}
	return env
}

func referencesSecret(c corev1.Container, name string) bool {
	return slices.ContainsFunc(c.EnvFrom, func(f corev1.EnvFromSource) bool { return f.SecretRef != nil && f.SecretRef.Name == name })
}

// checkResources wants CPU and memory requests and limits, each limit at least its request.
func checkResources(t *testing.T, what string, c corev1.Container) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[name]
		lim, hasLim := c.Resources.Limits[name]
		switch {
		case !hasReq || !hasLim:
			t.Errorf("%s: container %s needs both a %s request and limit", what, c.Name, name)
		case req.Sign() <= 0:
			t.Errorf("%s: container %s: %s request %s", what, c.Name, name, req.String())
		case lim.Cmp(req) < 0:
			t.Errorf("%s: container %s: %s limit %s is below its request %s", what, c.Name, name, lim.String(), req.String())
		}
	}
}

// checkPodSecurity wants the restricted Pod Security Standard and the image's own user.
func checkPodSecurity(t *testing.T, app appFacts, what string, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: runAsNonRoot is not true", what)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile is not RuntimeDefault", what)
	}
	// The image runs as distroless's nonroot; a different uid would own nothing in it.
	if !strings.HasSuffix(app.baseImage, ":nonroot") || app.user != "nonroot:nonroot" {
		t.Errorf("Dockerfile: final stage %s with USER %s; the manifests assume distroless :nonroot (uid %d)", app.baseImage, app.user, distrolessNonrootUID)
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != distrolessNonrootUID || psc.RunAsGroup == nil || *psc.RunAsGroup != distrolessNonrootUID {
		t.Errorf("%s: runAsUser/runAsGroup should be %d, the image's nonroot user", what, distrolessNonrootUID)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken should be false: the app never calls the API", what)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: container %s has no securityContext", what, c.Name)
			continue
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container %s: readOnlyRootFilesystem is not true", what, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container %s: allowPrivilegeEscalation is not false", what, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: container %s is privileged", what, c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: container %s: capabilities should drop ALL and add none", what, c.Name)
		}
		if c.Image != "" && len(c.Command) > 0 && c.Command[0] != app.entrypoint {
			t.Errorf("%s: container %s runs %s; the image's entrypoint is %s", what, c.Name, c.Command[0], app.entrypoint)
		}
	}
}

// checkPinned wants a release tag (or digest) on every image, never latest or dev.
func checkPinned(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	for _, c := range pod.Containers {
		name, tag := splitImage(c.Image)
		if tag == "" || tag == "latest" || tag == "dev" {
			t.Errorf("%s: image %q (of %s) has no release tag", what, c.Image, name)
		}
	}
}

// splitImage returns the image's name and its tag or digest ("" when it has none).
func splitImage(image string) (name, tag string) {
	if n, digest, ok := strings.Cut(image, "@"); ok {
		return n, digest
	}
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image[:colon], image[colon+1:]
	}
	return image, ""
}

func checkScrapeTimeout(t *testing.T, ep monitoringv1.Endpoint) {
	t.Helper()
	if ep.Interval == "" || ep.ScrapeTimeout == "" {
		return
	}
	interval, err1 := time.ParseDuration(string(ep.Interval))
	timeout, err2 := time.ParseDuration(string(ep.ScrapeTimeout))
	if err1 != nil || err2 != nil || timeout > interval {
		t.Errorf("ServiceMonitor endpoint: interval %s, scrapeTimeout %s: want durations with the timeout within the interval", ep.Interval, ep.ScrapeTimeout)
	}
}

func onlyContainer(t *testing.T, what string, pod corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(pod.Containers))
	}
	return pod.Containers[0]
}

func onlyService(t *testing.T, m manifests) *corev1.Service {
	t.Helper()
	if len(m.services) != 1 {
		t.Fatalf("%d Services, want 1", len(m.services))
	}
	return m.services[0]
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// resolvePort turns a probe's or Service's port (a number or a container port's name) into
// the number; 0 when the name is not a port of c.
func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return int(p.IntVal)
	}
	return int(containerPort(c, p.StrVal))
}

// selects tells whether sel matches the labels; a selector that cannot be parsed fails the test.
func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func envDuration(t *testing.T, env map[string]string, name string) time.Duration {
	t.Helper()
	raw, ok := env[name]
	if !ok {
		t.Errorf("%s is not set: the default does not fit Kubernetes (README, Configuration)", name)
		return 0
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		t.Errorf("%s=%q: %v", name, raw, err)
	}
	return d
}

// parseGoMemLimit reads GOMEMLIMIT as the Go runtime does: bytes with an optional B, KiB, MiB,
// GiB or TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		scale  int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	scale := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, scale = n, u.scale
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive number of bytes with an optional B, KiB, MiB, GiB or TiB")
	}
	return n * scale, nil
}

func mapKeys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := keys(m)
	slices.Sort(out)
	return out
}

func ptrText(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}
