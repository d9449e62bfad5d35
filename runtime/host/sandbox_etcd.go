package host

// Etcd passes through (etcd is network, like the API server), except under
// --root: the relocated tree is not the running system, so, as for API
// clients, the client is an overlay with no cluster behind it: member
// changes are answered and recorded by the builtins, reads fail saying so.
func (s *Sandbox) Etcd(endpoints []string, t EtcdTLS) (Etcd, error) {
	if s.relocatedEtcd != nil {
		if _, err := etcdTLSConfig(t); err != nil {
			return nil, err
		}
		return &dryEtcd{ov: s.relocatedEtcd, endpoints: append([]string(nil), endpoints...)}, nil
	}
	return s.base.Etcd(endpoints, t)
}
