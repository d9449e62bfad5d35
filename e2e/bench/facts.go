package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// WriteFacts prints the machine facts a reader needs to judge the numbers,
// as benchmark configuration lines ("key: value"), which benchstat and
// Parse keep. phase is "start" or "end": the load average is printed at
// both ends because other work on a shared machine skews every timing.
func WriteFacts(w io.Writer, phase string) {
	if phase == "start" {
		fmt.Fprintf(w, "cores: %d\n", runtime.NumCPU())
		if mem := memTotal(); mem != "" {
			fmt.Fprintf(w, "memory: %s\n", mem)
		}
		if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			fmt.Fprintf(w, "kernel: %s\n", strings.TrimSpace(string(k)))
		}
	}
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(l))
		if len(f) >= 3 {
			fmt.Fprintf(w, "load-%s: %s %s %s (1/5/15 min)\n", phase, f[0], f[1], f[2])
		}
	}
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return fmt.Sprintf("%d MiB", kb/1024)
			}
		}
	}
	return ""
}
