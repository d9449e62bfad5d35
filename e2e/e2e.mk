# e2e.mk — end-to-end targets, included by the top-level Makefile.
# The e2e suite is its own Go module (e2e/go.mod); the Kubernetes components
# are built from a second module (e2e/build/go.mod) so the test module stays light.
# Needs root: it installs containerd/runc with apt-get when missing and creates
# network and mount namespaces.

E2E_DIR ?= e2e
E2E_TIMEOUT ?= 60m
E2E_RUN ?= .

.PHONY: e2e-binaries e2e e2e-clean parity

## e2e-binaries: install host packages, build etcd + Kubernetes binaries and images (cached)
e2e-binaries:
	cd $(E2E_DIR) && go run ./cmd/build-binaries

## e2e: run the end-to-end tests on real kubelet + containerd nodes
## (first removes leftovers of a crashed run: a test killed by -timeout runs no cleanup)
e2e: e2e-binaries
	cd $(E2E_DIR) && go run ./cmd/e2e-clean
	cd $(E2E_DIR) && go test -count=1 -v -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' ./...

## e2e-clean: remove leftovers (namespaces, processes, mounts, cgroups) of a crashed e2e run
e2e-clean:
	cd $(E2E_DIR) && go run ./cmd/e2e-clean

## parity: compare what kubelark and kubeadm v1.36.3 write for every config in
## testdata/parity/configs (TestParity, about half a minute) and the API
## objects a whole init of each creates on real nodes for every config in
## testdata/parity/api-configs (TestParityAPI, network 10.78.0, about half a
## minute per config), and what kubeadm join and kubelark join write on a
## worker and on a control-plane node of a kubeadm-made cluster (TestParityJoin,
## network 10.83.0, configs in testdata/parity/join-configs); root; also part of `e2e`, which runs every package of
## the e2e module. Differences must be listed in
## testdata/parity/differences.md. KUBELARK_PARITY_KEEP=DIR keeps the outputs.
parity:
	cd $(E2E_DIR) && go test -count=1 -v -timeout $(E2E_TIMEOUT) ./parity/...
