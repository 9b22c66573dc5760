// Package check validates deploy/kubernetes and docker-compose.yml offline (`make k8s-check`):
// it renders each kustomization with the kustomize API, decodes every object strictly into
// the typed Kubernetes API structs, and checks the manifests against the binary's own source
// (setting names, routes, ports, the image's user). It is a module of its own so that the
// Kubernetes libraries stay out of the app's go.mod.
package check
