package stdlib_test

import (
	"testing"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
)

// TestJoinCommandsCarrySecretsAsSecrets: the join commands are built
// from the token and certificate key as secrets (+, not % or join, which
// would give "<redacted>"): shown redacted, and revealed — on a live
// stdout only — byte for byte as kubeadm's joinCommandTemplate.
func TestJoinCommandsCarrySecretsAsSecrets(t *testing.T) {
	key := "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	g := execModule(t, host.NewFake(), `
load("@stdlib//joincommand.star", "joincommand")
tok = parse_bootstrap_token("abcdef.0123456789abcdef")
key = parse_certificate_key("`+key+`")
cfg = struct(cluster_url = "https://cp.example:6443")
adm = joincommand.kubeadm_command(cfg, tok.token, "sha256:x", True, key)
klr = joincommand.kubelark_command(cfg, tok.token, "sha256:x", True, key)
`)
	for name, want := range map[string]string{
		"adm": "kubeadm join cp.example:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash sha256:x \\\n\t--control-plane --certificate-key " + key,
		"klr": "kubelark run join \\\n\t--set api_server_endpoint=cp.example:6443 \\\n\t--set token=abcdef.0123456789abcdef \\\n\t--set ca_cert_hash=sha256:x \\\n\t--set control_plane=true \\\n\t--set certificate_key=" + key,
	} {
		s, ok := g[name].(*runtime.Secret)
		if !ok {
			t.Fatalf("%s is a %s, want a secret", name, g[name].Type())
		}
		if s.Reveal() != want {
			t.Errorf("%s revealed:\n%q\nwant\n%q", name, s.Reveal(), want)
		}
		if shown := s.String(); shown == want || len(shown) == 0 {
			t.Errorf("%s shown in clear: %q", name, shown)
		}
	}
}
