package recipes_test

// Tests of recipes/token/*.star (kubelark token ...) and
// recipes/certs/certificate-key.star on the in-memory cluster of a fake
// machine made by the init recipe.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/kubelark/kubelark/builtins"
	"github.com/kubelark/kubelark/recipes"
	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/stdlib"
)

// runToken runs an embedded token/certs recipe on h; it returns the plan,
// the output() lines (the command's result) and the progress lines.
func runToken(t *testing.T, h host.Host, recipe string, dryRun bool, args []string, set ...string) (*runtime.Plan, string, string, error) {
	t.Helper()
	var result, progress bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: recipe, RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Set: set, Args: args, DryRun: dryRun,
		Host: h, Registry: builtins.Registry(), Out: &progress, Output: &result,
	})
	return plan, result.String(), progress.String(), err
}

const newToken = "qwerty.0123456789qwerty"

// TestTokenCreateListDelete: create refuses an existing id, prints the
// join commands with the kubeconfig's server and CA pin; list masks the
// secret and shows the TTL; delete removes the Secret and refuses an
// unknown id; the token's secret half is in no plan and no list.
func TestTokenCreateListDelete(t *testing.T) {
	cp, hash := initCluster(t, false)
	cp.FLive = true // output(reveal=True) shows the token on a live run only

	_, res, progress, err := runToken(t, cp, "token/create", false, []string{newToken}, "print_join_command=true", "description=for node7", "ttl=2h")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, progress)
	}
	lines := strings.Split(strings.TrimSpace(res), "\n")
	wantKubelark := "kubelark join " + joinServer + " --token " + newToken + " --discovery-token-ca-cert-hash " + hash
	wantKubeadm := "kubeadm join " + joinServer + " --token " + newToken + " --discovery-token-ca-cert-hash " + hash
	if len(lines) != 2 || lines[0] != wantKubelark || lines[1] != wantKubeadm {
		t.Errorf("token create --print-join-command printed\n%q\nwant\n%q\n%q", lines, wantKubelark, wantKubeadm)
	}
	if strings.Contains(progress, "0123456789qwerty") {
		t.Errorf("the progress lines carry the token secret:\n%s", progress)
	}

	// The same id again: refused, nothing written.
	plan, _, _, err := runToken(t, cp, "token/create", false, []string{"qwerty.zzzzzzzzzzzzzzzz"})
	if err == nil || !strings.Contains(err.Error(), `a bootstrap token with id "qwerty" exists`) || strings.Contains(err.Error(), "zzzzzzzzzzzzzzzz") {
		t.Errorf("creating an existing id: %v", err)
	}
	for _, a := range plan.Actions {
		if a.Op == "api.apply" {
			t.Errorf("the refused create applied %s", a.Target)
		}
	}

	// A control-plane join command with a certificate key.
	key := strings.Repeat("ab", 32)
	_, res, _, err = runToken(t, cp, "token/create", false, nil, "print_join_command=true", "certificate_key="+key)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^kubelark join 10\.0\.0\.10:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} --control-plane --certificate-key ` + key + `$`).MatchString(res) {
		t.Errorf("control-plane join command:\n%s", res)
	}
	if _, _, _, err := runToken(t, cp, "token/create", false, nil, "certificate_key="+key); err == nil || !strings.Contains(err.Error(), "only used with print_join_command") || strings.Contains(err.Error(), key) {
		t.Errorf("certificate_key without print_join_command: %v", err)
	}

	// list: the new token masked, with its TTL, usages and groups.
	plan, res, _, err = runToken(t, cp, "token/list", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res, "0123456789qwerty") || strings.Contains(res, joinToken[7:]) {
		t.Errorf("token list shows a token secret:\n%s", res)
	}
	if !regexp.MustCompile(`(?m)^TOKEN +TTL +EXPIRES +USAGES +DESCRIPTION +EXTRA GROUPS$`).MatchString(res) ||
		!regexp.MustCompile(`(?m)^qwerty\.\*{16} +2h +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +authentication,signing +for node7 +system:bootstrappers:kubeadm:default-node-token$`).MatchString(res) ||
		!regexp.MustCompile(`(?m)^abcdef\.\*{16} +(1d|23h) `).MatchString(res) {
		t.Errorf("token list:\n%s", res)
	}
	if b, _ := json.Marshal(plan); bytes.Contains(b, []byte("0123456789qwerty")) {
		t.Errorf("the list plan carries a token secret")
	}
	if want := kubeadmTable(t, res); res != want {
		t.Errorf("token list is not laid out as kubeadm's tabwriter lays it out:\n%s\nwant\n%s", res, want)
	}
	_, res, _, err = runToken(t, cp, "token/list", false, nil, "output=json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(res))
	found := false
	for dec.More() {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("token list -o json: %v\n%s", err, res)
		}
		if o["kind"] != "BootstrapToken" || !strings.HasSuffix(o["token"].(string), ".****************") {
			t.Errorf("token list -o json object: %v", o)
		}
		found = found || o["token"] == "qwerty.****************" && o["description"] == "for node7"
	}
	if !found {
		t.Errorf("token list -o json lacks qwerty:\n%s", res)
	}

	// delete: a malformed id and an unknown one are refused before any
	// deletion; then by whole token.
	for _, tc := range []struct{ arg, want string }{
		{"QWERTY", "neither a token id"},
		{"qwerty,nosuch", `bootstrap token "nosuch" not found`},
	} {
		plan, _, _, err := runToken(t, cp, "token/delete", false, []string{tc.arg}, "tokens="+newToken)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("token delete %s: %v, want %q", tc.arg, err, tc.want)
		}
		if len(plan.Actions) != 0 {
			t.Errorf("token delete %s failed after %d actions", tc.arg, len(plan.Actions))
		}
	}
	plan, res, _, err = runToken(t, cp, "token/delete", false, nil, "tokens="+newToken)
	if err != nil {
		t.Fatal(err)
	}
	if res != "bootstrap token \"qwerty\" deleted\n" {
		t.Errorf("token delete printed %q", res)
	}
	if b, _ := json.Marshal(plan); bytes.Contains(b, []byte("0123456789qwerty")) {
		t.Errorf("the delete plan carries the token secret")
	}
	_, res, _, _ = runToken(t, cp, "token/list", false, nil)
	if strings.Contains(res, "qwerty") {
		t.Errorf("the deleted token is still listed:\n%s", res)
	}
}

// kubeadmTable renders the cells of a token list table the way kubeadm's
// tokenTextPrinter does (formatBootstrapToken's padding, a tabwriter
// with minimum width 10 and padding 3).
func kubeadmTable(t *testing.T, table string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 10, 4, 3, ' ', 0)
	for i, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		c := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(c) != 6 {
			t.Fatalf("line %d has %d cells: %q", i, len(c), line)
		}
		if i == 0 {
			fmt.Fprintln(tw, strings.Join(c, "\t"))
			continue
		}
		fmt.Fprintf(tw, "%s\t%-9s\t%s\t%-22s\t%-56s\t%s\n", c[0], c[1], c[2], c[3], c[4], c[5])
	}
	tw.Flush()
	return b.String()
}

// TestTokenCreateDryRun: the plan holds the Secret write with its server,
// data redacted; the printed token is redacted; nothing is created.
func TestTokenCreateDryRun(t *testing.T) {
	cp, _ := initCluster(t, false)
	plan, res, _, err := runToken(t, host.NewDryRun(cp), "token/create", true, []string{newToken}, "print_join_command=true")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res, "0123456789qwerty") || !strings.Contains(res, "--token <redacted> --discovery-token-ca-cert-hash sha256:") {
		t.Errorf("dry-run output:\n%s", res)
	}
	var apply *runtime.Action
	for i, a := range plan.Actions {
		if a.Op == "api.apply" {
			apply = &plan.Actions[i]
		}
	}
	if apply == nil || apply.Target != "v1/Secret/kube-system/bootstrap-token-qwerty" || apply.Server != "https://"+joinServer {
		t.Fatalf("dry-run plan: %+v", plan.Actions)
	}
	if b, _ := json.Marshal(plan); bytes.Contains(b, []byte("0123456789qwerty")) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString([]byte("0123456789qwerty")))) {
		t.Errorf("the dry-run plan carries the token secret")
	}
	_, res, _, _ = runToken(t, cp, "token/list", false, nil)
	if strings.Contains(res, "qwerty") {
		t.Errorf("the dry run created the token:\n%s", res)
	}
}

// TestTokenGenerateAndCertificateKey: random values of the right shape,
// revealed on a live run only.
func TestTokenGenerateAndCertificateKey(t *testing.T) {
	for _, tc := range []struct{ recipe, pattern string }{
		{"token/generate", `^[a-z0-9]{6}\.[a-z0-9]{16}\n$`},
		{"certs/certificate-key", `^[0-9a-f]{64}\n$`},
	} {
		h := newFake()
		h.FLive = true
		_, res, _, err := runToken(t, h, tc.recipe, false, nil)
		if err != nil || !regexp.MustCompile(tc.pattern).MatchString(res) {
			t.Errorf("%s: %v %q", tc.recipe, err, res)
		}
		_, res, _, err = runToken(t, newFake(), tc.recipe, true, nil)
		if err != nil || !strings.Contains(res, "<redacted>") {
			t.Errorf("%s --dry-run: %v %q", tc.recipe, err, res)
		}
	}
}

// TestUploadCertsRerun: `kubelark run init --phases upload-certs --set
// upload_certs=true` on a node init made re-uploads the certificates with
// a new key and a new owner token, writes no file and touches no other
// object, and prints the new key (revealed on a live run).
func TestUploadCertsRerun(t *testing.T) {
	cp, _ := initCluster(t, false)
	cp.FLive = true
	before := cp.Paths()
	var result, progress bytes.Buffer
	plan, err := runtime.Run(context.Background(), runtime.Options{
		Recipe: "init", RecipeFS: recipes.FS, StdlibFS: stdlib.FS, Phases: []string{"upload-certs"},
		Set:  []string{"upload_certs=true"},
		Host: cp, Registry: builtins.Registry(), Out: &progress, Output: &result,
	})
	if err != nil {
		t.Fatalf("upload-certs re-run: %v\n%s", err, progress.String())
	}
	m := regexp.MustCompile(`Using certificate key:\n([0-9a-f]{64})\n`).FindStringSubmatch(result.String())
	if m == nil || !strings.Contains(progress.String(), "Run join with --certificate-key") {
		t.Fatalf("the re-run printed no new key or no hint:\n%s\n%s", result.String(), progress.String())
	}
	var applied []string
	for _, a := range plan.Actions {
		switch a.Op {
		case "api.apply":
			applied = append(applied, a.Target)
			ours := strings.Contains(a.Target, "kubeadm-certs") || strings.HasPrefix(a.Target, "v1/Secret/kube-system/bootstrap-token-")
			if !ours && a.Result != "unchanged" {
				t.Errorf("the re-run %s %s: only the upload-certs objects may change", a.Result, a.Target)
			}
		default:
			t.Errorf("the re-run did %s %s", a.Op, a.Target)
		}
	}
	for _, want := range []string{"v1/Secret/kube-system/kubeadm-certs", "rbac.authorization.k8s.io/v1/Role/kube-system/kubeadm:kubeadm-certs"} {
		if !strings.Contains(strings.Join(applied, " "), want) {
			t.Errorf("the re-run did not apply %s: %v", want, applied)
		}
	}
	if after := cp.Paths(); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("the re-run changed the node's files:\n%v\nvs\n%v", before, after)
	}
	for _, a := range plan.Actions {
		if a.Op != "api.apply" || !strings.HasPrefix(a.Target, "v1/Secret/kube-system/bootstrap-token-") || a.Target == "v1/Secret/kube-system/bootstrap-token-abcdef" {
			continue
		}
		return // a new owner token
	}
	t.Errorf("the re-run made no new owner token: %v", applied)
}
