package builtins

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubelark/kubelark/runtime/host"
)

// apiserverPodStar builds a kube-apiserver Pod the way stdlib's
// controlplane policy does (kubeadm-facts §3), trimmed to a few flags.
const apiserverPodStar = `
def probe(path, delay, period, failures):
    return {
        "httpGet": {"host": "10.0.0.10", "path": path, "port": "probe-port", "scheme": "HTTPS"},
        "initialDelaySeconds": delay, "timeoutSeconds": 15, "periodSeconds": period, "failureThreshold": failures,
    }

def vol(name, path):
    return {"name": name, "hostPath": {"path": path, "type": "DirectoryOrCreate"}}

pod = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "kube-apiserver",
        "namespace": "kube-system",
        "labels": {"component": "kube-apiserver", "tier": "control-plane"},
        "annotations": {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "10.0.0.10:6443"},
    },
    "spec": {
        "containers": [{
            "name": "kube-apiserver",
            "image": "registry.k8s.io/kube-apiserver:v1.36.3",
            "imagePullPolicy": "IfNotPresent",
            "command": [
                "kube-apiserver",
                "--advertise-address=10.0.0.10",
                "--allow-privileged=true",
                "--secure-port=6443",
                "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
            ],
            "env": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}],
            "ports": [{"name": "probe-port", "containerPort": 6443, "protocol": "TCP"}],
            "livenessProbe": probe("/livez", 10, 10, 8),
            "readinessProbe": probe("/readyz", 0, 1, 3),
            "startupProbe": probe("/livez", 10, 10, 24),
            "resources": {"requests": {"cpu": "250m"}},
            "volumeMounts": [
                {"name": "ca-certs", "mountPath": "/etc/ssl/certs", "readOnly": True},
                {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki", "readOnly": True},
            ],
        }],
        "hostNetwork": True,
        "priority": 2000001000,
        "priorityClassName": "system-node-critical",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [vol("ca-certs", "/etc/ssl/certs"), vol("k8s-certs", "/etc/kubernetes/pki")],
    },
}
`

// wantAPIServerYAML is what kubeadm's MarshalToYaml renders for that Pod:
// sorted keys, "resources" kept, `status: {}`, no creationTimestamp.
const wantAPIServerYAML = `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: 10.0.0.10:6443
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.10
    - --allow-privileged=true
    - --secure-port=6443
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    env:
    - name: HTTPS_PROXY
      value: http://proxy:3128
    image: registry.k8s.io/kube-apiserver:v1.36.3
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 10.0.0.10
        path: /livez
        port: probe-port
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kube-apiserver
    ports:
    - containerPort: 6443
      name: probe-port
      protocol: TCP
    readinessProbe:
      failureThreshold: 3
      httpGet:
        host: 10.0.0.10
        path: /readyz
        port: probe-port
        scheme: HTTPS
      periodSeconds: 1
      timeoutSeconds: 15
    resources:
      requests:
        cpu: 250m
    startupProbe:
      failureThreshold: 24
      httpGet:
        host: 10.0.0.10
        path: /livez
        port: probe-port
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    volumeMounts:
    - mountPath: /etc/ssl/certs
      name: ca-certs
      readOnly: true
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/ssl/certs
      type: DirectoryOrCreate
    name: ca-certs
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
status: {}
`

func TestStaticPodAPIServer(t *testing.T) {
	h := host.NewFake()
	const path = "/etc/kubernetes/manifests/kube-apiserver.yaml"
	run := mustExecStar(t, h, apiserverPodStar+`
r1 = static_pod("`+path+`", pod)
r2 = static_pod("`+path+`", pod)
res = [r1.status, r2.status]
`)
	if got := run.globals["res"].String(); got != `["created", "unchanged"]` {
		t.Errorf("statuses = %s", got)
	}
	data, mode, ok := h.Get(path)
	if !ok {
		t.Fatalf("%s not written; files: %v", path, h.Paths())
	}
	if mode != 0o600 {
		t.Errorf("manifest mode = %o, want 0600", mode)
	}
	if got := dirMode(t, h, "/etc/kubernetes/manifests"); got != fs.FileMode(0o700).String() {
		t.Errorf("manifests dir mode = %s, want 0700", got)
	}
	if diff := cmp.Diff(wantAPIServerYAML, string(data)); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}

	// The file parses back into the same Pod.
	var pod corev1.Pod
	if err := sigsyaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatalf("manifest does not parse back: %v", err)
	}
	c := pod.Spec.Containers[0]
	if pod.Name != "kube-apiserver" || !pod.Spec.HostNetwork || *pod.Spec.Priority != 2000001000 ||
		c.StartupProbe.FailureThreshold != 24 || c.LivenessProbe.HTTPGet.Port.StrVal != "probe-port" ||
		!c.Resources.Requests.Cpu().Equal(resource.MustParse("250m")) || len(pod.Spec.Volumes) != 2 {
		t.Errorf("parsed pod differs: %+v", pod)
	}

	a := run.env.Plan().Actions[0]
	wantSummary := map[string]any{
		"name": "kube-apiserver", "namespace": "kube-system", "image": "registry.k8s.io/kube-apiserver:v1.36.3",
		"command": []string{"kube-apiserver", "--advertise-address=10.0.0.10", "--allow-privileged=true", "--secure-port=6443", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt"},
	}
	if diff := cmp.Diff(wantSummary, a.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if a.Op != "file.write" || a.Mode != "0600" || a.Builtin != "static_pod" || a.SHA256 == "" {
		t.Errorf("action = %+v", a)
	}
}

func TestStaticPodErrors(t *testing.T) {
	h := host.NewFake()
	const p = `"/etc/kubernetes/manifests/x.yaml"`
	base := `
def pod(**kw):
    d = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "kube-system"},
         "spec": {"containers": [{"name": "x", "image": "img"}]}}
    d.update(kw)
    return d
`
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown container field", `static_pod(` + p + `, pod(spec={"containers": [{"name": "x", "image": "i", "imagee": "j"}]}))`,
			[]string{"static_pod: /etc/kubernetes/manifests/x.yaml: Pod:", `unknown field "spec.containers[0].imagee"`, "case-sensitive"}},
		{"wrong case", `static_pod(` + p + `, pod(spec={"containers": [{"name": "x", "Image": "i"}]}))`,
			[]string{`unknown field "spec.containers[0].Image"`}},
		{"wrong type", `static_pod(` + p + `, pod(spec={"hostNetwork": "yes", "containers": [{"name": "x", "image": "i"}]}))`,
			[]string{"Pod:", "hostNetwork", "bool"}},
		{"kind", `static_pod(` + p + `, pod(kind="Deployment"))`,
			[]string{`kind "Deployment"`, `"kind": "Pod"`}},
		{"no apiVersion", `d = pod(); d.pop("apiVersion"); static_pod(` + p + `, d)`,
			[]string{`apiVersion ""`, `"apiVersion": "v1"`}},
		{"no name", `static_pod(` + p + `, pod(metadata={"namespace": "kube-system"}))`,
			[]string{"no metadata.name"}},
		{"bad name", `static_pod(` + p + `, pod(metadata={"name": "Kube_API", "namespace": "kube-system"}))`,
			[]string{`metadata.name "Kube_API" is invalid`}},
		{"no namespace", `static_pod(` + p + `, pod(metadata={"name": "x"}))`,
			[]string{"no metadata.namespace", `"namespace": "kube-system"`}},
		{"no containers", `static_pod(` + p + `, pod(spec={}))`,
			[]string{"no spec.containers"}},
		{"no image", `static_pod(` + p + `, pod(spec={"containers": [{"name": "c"}]}))`,
			[]string{`container "c" has no image`}},
		{"no container name", `static_pod(` + p + `, pod(spec={"containers": [{"image": "i"}]}))`,
			[]string{"spec.containers[0] has no name"}},
		{"not a dict", `static_pod(` + p + `, "apiVersion: v1")`,
			[]string{"pod: got string, want a dict"}},
		{"relative path", `static_pod("x.yaml", pod())`,
			[]string{`path "x.yaml" is relative`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, h, base+tc.src, tc.want...)
		})
	}
	if len(h.Paths()) != 0 {
		t.Errorf("failed calls wrote files: %v", h.Paths())
	}
}

func TestStaticPodStructInputAndRedaction(t *testing.T) {
	h := host.NewFake()
	run := mustExecStar(t, h, `
t = bootstrap_token()
secret = t.secret
static_pod("/m/p.yaml", struct(apiVersion="v1", kind="Pod",
    metadata=struct(name="p", namespace="default"),
    spec=struct(containers=[struct(name="c", image="busybox", command=["sh", "-c", "echo " + t.token])])))
`)
	secret := run.revealed(t, "secret")
	cmd := strings.Join(run.env.Plan().Actions[0].Summary["command"].([]string), " ")
	if strings.Contains(cmd, secret) || !strings.Contains(cmd, "<redacted>") {
		t.Errorf("summary command not redacted: %q", cmd)
	}
	if data, _, _ := h.Get("/m/p.yaml"); !strings.Contains(string(data), secret) {
		t.Errorf("the manifest itself must keep the real value:\n%s", data)
	}
}
