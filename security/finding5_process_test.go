package security

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Attempts of finding 5 that only a process can show: it must end with
// one "error:" line and the documented status, never a Go crash.

// startUntil starts kubelark and waits until its stdout shows marker (the
// recipe reached the hostile operation).
func startUntil(t *testing.T, marker string, args ...string) (*exec.Cmd, *bytes.Buffer, chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), marker) {
				close(seen)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-seen:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the recipe never printed %q; stderr:\n%s", marker, stderr.String())
	}
	return cmd, &stderr, seen
}

func waitProcess(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, limit time.Duration) cliResult {
	t.Helper()
	return waitCLI(t, cmd, &bytes.Buffer{}, stderr, time.Now(), limit)
}

func TestFinding5DeepStrExitsOnSIGTERM(t *testing.T) {
	// str() of a million-deep list runs for minutes inside one call that
	// never looks at cancellation; SIGTERM must still end the process
	// within a few seconds (the grace period is 5 s).
	p := recipeFile(t, deepList(1000000)+"print('built')\nstr(x)\n")
	cmd, stderr, _ := startUntil(t, "built", "run", p)
	time.Sleep(200 * time.Millisecond) // into str()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := waitProcess(t, cmd, stderr, 10*time.Second)
	wantOneLineError(t, r, 143, "interrupted by SIGTERM", "did not return within 5s")
}

func TestFinding5SIGINTStopsAtRecipeLine(t *testing.T) {
	// A recipe in a long loop stops at its next step, and says where.
	p := recipeFile(t, `
def spin():
    print("spinning")
    for i in range(100000000):
        pass
spin()
`)
	cmd, stderr, _ := startUntil(t, "spinning", "run", p)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := waitProcess(t, cmd, stderr, 5*time.Second)
	wantOneLineError(t, r, 130, "stopped at", "main.star:", "interrupted by SIGINT")
}

func TestFinding5ReplaceHugeStringTimeout(t *testing.T) {
	// 30 replace calls on a 100 MB string took 34 s within ~100 steps:
	// the step limit does not bound time; --timeout does. 20 MB keeps
	// each call well under the 5 s a builtin is given to return after the
	// budget (on a loaded machine too), while 60 calls still outlast 2 s.
	p := recipeFile(t, `
def churn():
    s = "ab" * (10 * 1000 * 1000)
    for i in range(30):
        s = s.replace("a", "c").replace("c", "a")
    return len(s)
churn()
`)
	r := runCLI(t, filepath.Dir(p), 20*time.Second, "run", "--timeout", "2s", p)
	wantOneLineError(t, r, 1, "stopped at", "main.star:5:", "exceeded its --timeout of 2s")
	if r.duration > 10*time.Second {
		t.Errorf("the run took %v after a 2s budget", r.duration)
	}
}

func TestFinding5MemoryBudget(t *testing.T) {
	// Strings of 200 MB each (under the 256 MiB cap of one operation)
	// pile up until the heap budget stops the run.
	p := recipeFile(t, `
def grow():
    out = []
    for i in range(20):
        out.append("x" * (200 << 20))
    return out
grow()
`)
	r := runCLI(t, filepath.Dir(p), 60*time.Second, "run", "--max-memory", "512Mi", p)
	wantOneLineError(t, r, 1, "--max-memory budget of 512.0 MiB")
}

func TestFinding5ListRepeatBillionProcess(t *testing.T) {
	p := recipeFile(t, `x = [0] * 1000000000`)
	r := runCLI(t, filepath.Dir(p), 20*time.Second, "run", p)
	wantOneLineError(t, r, 1, "stopped at", "main.star:1:9", "256 MiB")
}

func TestFinding5DeepYAMLEncodeProcess(t *testing.T) {
	// In the process, not only in a test: no "fatal error: stack overflow".
	p := recipeFile(t, deepList(1000000)+"yaml.encode(x)\n")
	r := runCLI(t, filepath.Dir(p), 30*time.Second, "run", p)
	wantOneLineError(t, r, 1, "nests deeper than 1000 levels")
}

func TestFinding5ConfigDevZero(t *testing.T) {
	r := runCLI(t, t.TempDir(), 10*time.Second, "run", "init", "--dry-run", "--config", "/dev/zero")
	wantOneLineError(t, r, 1, "--config /dev/zero", "not a regular file (a character device)")
}

func TestFinding5ConfigHugeClusterName(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cluster.yaml")
	doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: " + strings.Repeat("a", 50<<20) + "\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, 20*time.Second, "run", "init", "--dry-run", "--config", cfg)
	wantOneLineError(t, r, 1, "--config", "over the 16 MiB")
	if len(r.stderr) > 4096 {
		t.Errorf("stderr holds %d bytes: the value is echoed", len(r.stderr))
	}
}
