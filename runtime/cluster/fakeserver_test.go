package cluster

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// fakeAPI is a tiny API server: legacy discovery, and GET / server-side
// apply PATCH / DELETE of any namespaced resource under /api/v1 and
// /apis/example.com/v1, with failure injection.
type fakeAPI struct {
	mu       sync.Mutex
	objects  map[string]map[string]any // path -> object
	rv       int
	widgets  bool  // serve example.com/v1 widgets in discovery
	failNext []int // status codes for the next requests
	requests []string
	ts       *httptest.Server
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{objects: map[string]map[string]any{}}
	f.ts = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeAPI) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ts.Certificate().Raw})
}

func (f *fakeAPI) kubeconfig(t *testing.T, server string) []byte {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: f.caPEM()}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"}
	cfg.Contexts["admin@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "admin"}
	cfg.CurrentContext = "admin@kubernetes"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	st := err.ErrStatus
	st.Kind, st.APIVersion = "Status", "v1"
	writeJSON(w, int(st.Code), st)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if len(f.failNext) > 0 {
		code := f.failNext[0]
		f.failNext = f.failNext[1:]
		writeStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{Status: "Failure", Code: int32(code),
			Reason: metav1.StatusReason(http.StatusText(code)), Message: "injected " + strconv.Itoa(code)}})
		return
	}
	switch r.URL.Path {
	case "/api":
		writeJSON(w, 200, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
		return
	case "/apis":
		l := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
		if f.widgets {
			gv := metav1.GroupVersionForDiscovery{GroupVersion: "example.com/v1", Version: "v1"}
			l.Groups = append(l.Groups, metav1.APIGroup{Name: "example.com", Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv})
		}
		writeJSON(w, 200, l)
		return
	case "/api/v1":
		writeJSON(w, 200, metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "v1",
			APIResources: []metav1.APIResource{{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: []string{"get", "patch"}}}})
		return
	case "/apis/example.com/v1":
		writeJSON(w, 200, metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "example.com/v1",
			APIResources: []metav1.APIResource{{Name: "widgets", Namespaced: true, Kind: "Widget", Verbs: []string{"get", "patch"}}}})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	name := parts[len(parts)-1]
	gr := schema.GroupResource{Resource: parts[len(parts)-2]}
	obj, exists := f.objects[r.URL.Path]
	switch r.Method {
	case http.MethodGet:
		if !exists {
			writeStatus(w, apierrors.NewNotFound(gr, name))
			return
		}
		writeJSON(w, 200, obj)
	case http.MethodDelete:
		if !exists {
			writeStatus(w, apierrors.NewNotFound(gr, name))
			return
		}
		delete(f.objects, r.URL.Path)
		writeJSON(w, 200, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Success"})
	case http.MethodPatch:
		if ct := r.Header.Get("Content-Type"); ct != "application/apply-patch+yaml" || r.URL.Query().Get("fieldManager") != FieldManager {
			writeStatus(w, apierrors.NewBadRequest("want server-side apply by kubelark, got "+ct+" "+r.URL.RawQuery))
			return
		}
		if name == "bad" {
			writeStatus(w, apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, name,
				field.ErrorList{field.Invalid(field.NewPath("data", "x y"), "x y", "a valid config key must consist of alphanumeric characters")}))
			return
		}
		body, _ := io.ReadAll(r.Body)
		var applied map[string]any
		if err := json.Unmarshal(body, &applied); err != nil {
			writeStatus(w, apierrors.NewBadRequest(err.Error()))
			return
		}
		md := applied["metadata"].(map[string]any)
		if exists && reflect.DeepEqual(applied["data"], obj["data"]) {
			md["resourceVersion"] = obj["metadata"].(map[string]any)["resourceVersion"]
		} else {
			f.rv++
			md["resourceVersion"] = strconv.Itoa(f.rv)
		}
		f.objects[r.URL.Path] = applied
		writeJSON(w, 200, applied)
	default:
		writeStatus(w, apierrors.NewMethodNotSupported(gr, r.Method))
	}
}
