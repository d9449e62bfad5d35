package security

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubelark/kubelark/runtime"
	"github.com/kubelark/kubelark/runtime/host"
	"github.com/kubelark/kubelark/runtime/kubeadmconfig"
)

// Finding 5: hostile or broken recipes crashed the process or ran
// unbounded. Each attempt must end in a one-line error, with no Go fatal
// error and no goroutine dump. In-process tests run the recipe on a fake
// host; what needs a process (signals, budgets that end it) runs the
// binary.

func TestFinding5DeepYAMLEncode(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, deepList(1000000)+"yaml.encode(x)\n"), 30*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:8:", "yaml.encode", "nests deeper than 1000 levels")
	wantStopped(t, err)
}

func TestFinding5DeepJSONEncode(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, deepList(1000000)+"json.encode(x)\n"), 30*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:8:", "json.encode", "nests deeper than 1000 levels")
	wantStopped(t, err)
}

func TestFinding5DeepJSONEncodeIndent(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, deepList(1000000)+"json.encode_indent(x)\n"), 30*time.Second, runtime.Options{})
	wantErr(t, err, "json.encode_indent", "nests deeper")
}

func TestFinding5DeepValueToBuiltin(t *testing.T) {
	// Every builtin converting data (ToGo) has the same limit.
	err := runOn(t, host.NewFake(), recipeFile(t, deepList(1000000)+"params(p = param(x, 'a deep default'))\n"), 30*time.Second, runtime.Options{})
	wantErr(t, err, "nests deeper")
}

func TestFinding5JSONDecodeMillionBrackets(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, `json.decode("[" * 1000000)`), 10*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:1:", "json.decode", "nests deeper than 1000 levels")
	wantStopped(t, err)
}

func TestFinding5YAMLDecodeMillionBrackets(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, `yaml.decode("[" * 1000000)`), 10*time.Second, runtime.Options{})
	wantErr(t, err, "yaml.decode", "exceeded max depth of 10000") // go-yaml's own limit, before kubelark's
}

func TestFinding5ListRepeatBillion(t *testing.T) {
	err := runOn(t, host.NewFake(), recipeFile(t, `x = [0] * 1000000000`), 10*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:1:9", "repeating a list of length 1 1000000000 times", "256 MiB")
	wantStopped(t, err)
}

func TestFinding5TwentyGigabyteStrings(t *testing.T) {
	src := `
def grow():
    out = []
    for i in range(20):
        out.append("x" * ((1 << 30) - 1))
    return out
grow()
`
	err := runOn(t, host.NewFake(), recipeFile(t, src), 10*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:5:", "repeating a string", "256 MiB")
}

func TestFinding5StringDoubling(t *testing.T) {
	src := `
def grow():
    s = "x"
    for i in range(40):
        s = s + s
    return s
grow()
`
	err := runOn(t, host.NewFake(), recipeFile(t, src), 30*time.Second, runtime.Options{})
	wantErr(t, err, "main.star:5:", "concatenating a string", "256 MiB")
}

func TestFinding5RepeatGuardNameReserved(t *testing.T) {
	// A recipe cannot shadow the guard the * operator compiles to.
	err := runOn(t, host.NewFake(), recipeFile(t, "_kubelark_repeat = lambda x, y: x\nx = [0] * 1000000000\n"), 10*time.Second, runtime.Options{})
	wantErr(t, err, "reserved")
}

func TestFinding5ValuesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "values.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	src := `params(x = param("a", "a parameter"))`
	err := runOn(t, host.NewFake(), recipeFile(t, src), 10*time.Second, runtime.Options{ValuesFile: fifo})
	wantErr(t, err, "--values", "not a regular file (a FIFO)")
}

func TestFinding5ValuesTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "values.yaml")
	big := "x: " + strings.Repeat("a", host.MaxInputFileSize) + "\n"
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `params(x = param("a", "a parameter"))`
	err := runOn(t, host.NewFake(), recipeFile(t, src), 10*time.Second, runtime.Options{ValuesFile: p})
	wantErr(t, err, "--values", "over the 16 MiB")
}

func TestFinding5ReadFileDevZero(t *testing.T) {
	// read_file through the CLI's live host (dry-run, no relocation):
	// /dev is outside every read root, so the sandbox refuses it first.
	h, err := host.NewSandbox(host.NewDryRun(host.NewLive(host.LiveOptions{})), host.SandboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = runOn(t, h, recipeFile(t, `read_file("/dev/zero")`), 10*time.Second, runtime.Options{DryRun: true})
	wantErr(t, err, "read_file", "/dev/zero", "outside the allowed read roots")

	// A file that never ends where reads are allowed (a FIFO under an
	// allowed root, which no writer feeds) is refused unread: the host
	// reads regular files only.
	root := t.TempDir()
	fifo := filepath.Join(root, "etc/kubernetes/endless")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	err = runOn(t, rootHost(t, root), recipeFile(t, `read_file("/etc/kubernetes/endless")`), 10*time.Second, runtime.Options{Root: root})
	wantErr(t, err, "read_file", "/etc/kubernetes/endless", "not a regular file")
}

func TestFinding5ReadFileTooLarge(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "etc/kubernetes/big")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, host.MaxInputFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runOn(t, rootHost(t, root), recipeFile(t, `read_file("/etc/kubernetes/big")`), 10*time.Second, runtime.Options{Root: root})
	wantErr(t, err, "read_file", "over the 16 MiB")
}

func TestFinding5HugeClusterNameNotEchoed(t *testing.T) {
	name := strings.Repeat("a", 10<<20) // 10 MB: under the 16 MiB file cap
	_, err := kubeadmconfig.Load([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: " + name + "\n"))
	wantErr(t, err, "clusterName", "more bytes)")
	if n := len(err.Error()); n > 4096 {
		t.Errorf("the error echoes %d bytes of input", n)
	}
}

// wantStopped checks for the one-line form of a bounded refusal.
func wantStopped(t *testing.T, err error) {
	t.Helper()
	var se *runtime.StoppedError
	if !errors.As(err, &se) {
		t.Errorf("error is %T, want a one-line *runtime.StoppedError: %.300v", err, err)
	} else if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err)
	}
}
