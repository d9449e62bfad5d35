package builtins

import (
	"crypto"
	"crypto/rand"
	goruntime "runtime"
	"sync"

	"github.com/kubelark/kubelark/runtime"
)

// keyPool generates private keys a few ahead of demand, one goroutine per
// key, so that an init run's ~16 RSA keys are made on every core while the
// recipe goes on, instead of one after another on the Starlark thread. It is
// run-scoped (kept in the Env), and bounded: at most `ahead` keys per
// algorithm are ever generated without being used, and every goroutine ends
// by itself (its result channel is buffered), so nothing leaks after a run.
type keyPool struct {
	mu    sync.Mutex
	ahead int
	byAlg map[string]chan keyResult
}

type keyResult struct {
	key crypto.Signer
	err error
}

type keyPoolKey struct{}

// pooledKey returns a fresh key of algorithm alg for this run. Keys come from
// the system CSPRNG: since Go 1.26 key generation ignores any other reader.
func pooledKey(env *runtime.Env, alg string) (crypto.Signer, error) {
	if err := checkAlgorithm("key generation", alg); err != nil {
		return nil, err
	}
	p := env.State(keyPoolKey{}, func() any {
		return &keyPool{ahead: goruntime.NumCPU(), byAlg: map[string]chan keyResult{}}
	}).(*keyPool)
	p.mu.Lock()
	ch, ok := p.byAlg[alg]
	if !ok {
		// Capacity covers every goroutine that can be in flight, so a send
		// never blocks even when the run ends before the key is taken.
		ch = make(chan keyResult, p.ahead+1)
		p.byAlg[alg] = ch
		for i := 0; i < p.ahead; i++ {
			go generateInto(ch, alg)
		}
	}
	// One more in flight for the one taken now keeps `ahead` keys coming.
	go generateInto(ch, alg)
	p.mu.Unlock()
	r := <-ch
	return r.key, r.err
}

func generateInto(ch chan<- keyResult, alg string) {
	k, err := generateKey(alg, rand.Reader)
	ch <- keyResult{k, err}
}
