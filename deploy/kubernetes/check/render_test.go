package check

import (
	"fmt"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// newObject returns an empty typed object for each kind the manifests may hold. A kind missing
// here is an error: every object is decoded into the real API struct, never a map.
var newObject = map[string]func() any{
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/Service":                             func() any { return new(corev1.Service) },
	"v1/Namespace":                           func() any { return new(corev1.Namespace) },
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"batch/v1/Job":                           func() any { return new(batchv1.Job) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any {
		return new(monitoringv1.ServiceMonitor)
	},
}

// decodeStrict decodes one object's YAML into its typed struct: unknown or misspelt fields,
// duplicate keys and wrong types are errors.
func decodeStrict(apiVersion, kind string, data []byte) (any, error) {
	mk, ok := newObject[apiVersion+"/"+kind]
	if !ok {
		return nil, fmt.Errorf("%s %s: not a kind these manifests are checked for", apiVersion, kind)
	}
	obj := mk()
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return nil, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	return obj, nil
}

// manifests is one rendered kustomization, by kind.
type manifests struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	namespaces      []*corev1.Namespace
	jobs            []*batchv1.Job
	pdbs            []*policyv1.PodDisruptionBudget
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	serviceMonitors []*monitoringv1.ServiceMonitor
	count           int
}

// render builds the kustomization in dir (relative to this folder) as `kubectl apply -k` would
// and decodes every object strictly.
func render(t *testing.T, dir string) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, r := range resMap.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		obj, err := decodeStrict(r.GetApiVersion(), r.GetKind(), data)
		if err != nil {
			t.Errorf("%s: %s", dir, err)
			continue
		}
		m.count++
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *corev1.Service:
			m.services = append(m.services, o)
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *corev1.Namespace:
			m.namespaces = append(m.namespaces, o)
		case *batchv1.Job:
			m.jobs = append(m.jobs, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpas = append(m.hpas, o)
		case *monitoringv1.ServiceMonitor:
			m.serviceMonitors = append(m.serviceMonitors, o)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

// The decoder itself must refuse what the API server would: a misspelt field, a wrong type, a
// duplicate key, an unknown kind.
func TestDecodeStrictRefuses(t *testing.T) {
	cases := map[string]struct{ apiVersion, kind, yaml string }{
		"misspelt field": {"apps/v1", "Deployment", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: x
          readinesProbe: {httpGet: {path: /readyz, port: 8080}}
`},
		"field at the wrong level": {"v1", "Service", `
apiVersion: v1
kind: Service
metadata: {name: x}
spec: {selector: {a: b}, ports: [{port: 80}], replicas: 2}
`},
		"wrong type": {"policy/v1", "PodDisruptionBudget", `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: x}
spec: {maxUnavailable: [1]}
`},
		"duplicate key": {"v1", "ConfigMap", `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {A: "1", A: "2"}
`},
		"unknown field in the CRD": {"monitoring.coreos.com/v1", "ServiceMonitor", `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: x}
spec: {selector: {}, endpoints: [{port: http, pth: /metrics}]}
`},
		"unknown kind": {"networking.k8s.io/v1", "Ingress", `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: x}
`},
	}
	for name, c := range cases {
		if _, err := decodeStrict(c.apiVersion, c.kind, []byte(c.yaml)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
	ok := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: \"1\"}\n"
	if _, err := decodeStrict("v1", "ConfigMap", []byte(ok)); err != nil {
		t.Errorf("a correct ConfigMap: %v", err)
	}
}
