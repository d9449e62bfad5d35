package cluster

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// mapping is where a kind lives in the API.
type mapping struct {
	Resource   schema.GroupVersionResource
	Namespaced bool
}

// builtinKinds maps the stable built-in kinds kubeadm's workflows use to
// their resources without asking the server. Two reasons: anonymous and
// bootstrap-token clients may not read discovery (system:discovery is bound
// to authenticated users only, and join reads cluster-info anonymously), and
// skipping discovery saves two round trips per client. Anything else
// (CRDs, beta versions) is resolved through discovery.
var builtinKinds = map[schema.GroupVersionKind]mapping{}

func init() {
	add := func(gv string, namespaced bool, kinds ...string) {
		g, v := splitAPIVersion(gv)
		for _, k := range kinds {
			kind, res, _ := strings.Cut(k, ":")
			builtinKinds[schema.GroupVersionKind{Group: g, Version: v, Kind: kind}] = mapping{
				Resource: schema.GroupVersionResource{Group: g, Version: v, Resource: res}, Namespaced: namespaced,
			}
		}
	}
	add("v1", true, "ConfigMap:configmaps", "Secret:secrets", "Service:services", "ServiceAccount:serviceaccounts",
		"Pod:pods", "Endpoints:endpoints", "Event:events", "PersistentVolumeClaim:persistentvolumeclaims",
		"LimitRange:limitranges", "ResourceQuota:resourcequotas")
	add("v1", false, "Namespace:namespaces", "Node:nodes", "PersistentVolume:persistentvolumes")
	add("apps/v1", true, "Deployment:deployments", "DaemonSet:daemonsets", "StatefulSet:statefulsets", "ReplicaSet:replicasets")
	add("batch/v1", true, "Job:jobs", "CronJob:cronjobs")
	add("rbac.authorization.k8s.io/v1", true, "Role:roles", "RoleBinding:rolebindings")
	add("rbac.authorization.k8s.io/v1", false, "ClusterRole:clusterroles", "ClusterRoleBinding:clusterrolebindings")
	add("certificates.k8s.io/v1", false, "CertificateSigningRequest:certificatesigningrequests")
	add("coordination.k8s.io/v1", true, "Lease:leases")
	add("policy/v1", true, "PodDisruptionBudget:poddisruptionbudgets")
	add("scheduling.k8s.io/v1", false, "PriorityClass:priorityclasses")
	add("storage.k8s.io/v1", false, "StorageClass:storageclasses", "CSIDriver:csidrivers")
	add("apiextensions.k8s.io/v1", false, "CustomResourceDefinition:customresourcedefinitions")
	add("admissionregistration.k8s.io/v1", false, "ValidatingWebhookConfiguration:validatingwebhookconfigurations",
		"MutatingWebhookConfiguration:mutatingwebhookconfigurations")
	add("discovery.k8s.io/v1", true, "EndpointSlice:endpointslices")
	add("networking.k8s.io/v1", true, "NetworkPolicy:networkpolicies", "Ingress:ingresses")
	add("networking.k8s.io/v1", false, "IngressClass:ingressclasses")
	add("node.k8s.io/v1", false, "RuntimeClass:runtimeclasses")
	add("apiregistration.k8s.io/v1", false, "APIService:apiservices")
}

// builtinMapping looks apiVersion/kind up in builtinKinds.
func builtinMapping(apiVersion, kind string) (mapping, bool) {
	g, v := splitAPIVersion(apiVersion)
	m, ok := builtinKinds[schema.GroupVersionKind{Group: g, Version: v, Kind: kind}]
	return m, ok
}

// knownNamespaced says whether a kind is namespaced when the answer does not
// need a server (dry-run without a cluster): the built-in table, whatever
// the version; ok is false for unknown kinds.
func knownNamespaced(apiVersion, kind string) (namespaced, ok bool) {
	g, _ := splitAPIVersion(apiVersion)
	for gvk, m := range builtinKinds {
		if gvk.Group == g && gvk.Kind == kind {
			return m.Namespaced, true
		}
	}
	return false, false
}

// mapper resolves kinds for one client: built-in table first, then a
// deferred discovery REST mapper whose cache is reset once when a kind is
// not found (a CRD applied a moment ago).
type mapper struct {
	mu   sync.Mutex
	disc discovery.DiscoveryInterface
	rm   *restmapper.DeferredDiscoveryRESTMapper
}

func newMapper(d discovery.DiscoveryInterface) *mapper {
	return &mapper{disc: d}
}

func (m *mapper) lookup(apiVersion, kind string) (mapping, error) {
	if mp, ok := builtinMapping(apiVersion, kind); ok {
		return mp, nil
	}
	m.mu.Lock()
	if m.rm == nil {
		m.rm = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(m.disc))
	}
	rm := m.rm
	m.mu.Unlock()
	g, v := splitAPIVersion(apiVersion)
	gk := schema.GroupKind{Group: g, Kind: kind}
	rmap, err := rm.RESTMapping(gk, v)
	if meta.IsNoMatchError(err) {
		rm.Reset()
		rmap, err = rm.RESTMapping(gk, v)
	}
	if meta.IsNoMatchError(err) {
		return mapping{}, &noMatchError{apiVersion: apiVersion, kind: kind, err: err}
	}
	if err != nil {
		return mapping{}, err
	}
	return mapping{Resource: rmap.Resource, Namespaced: rmap.Scope.Name() == meta.RESTScopeNameNamespace}, nil
}

// noMatchError says the server does not serve a kind; it is not retried.
type noMatchError struct {
	apiVersion, kind string
	err              error
}

func (e *noMatchError) Error() string {
	return fmt.Sprintf("the server does not serve kind %q in apiVersion %q (check the spelling; for a custom resource, apply and wait for its CRD first)", e.kind, e.apiVersion)
}
func (e *noMatchError) Unwrap() error { return e.err }
