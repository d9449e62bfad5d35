package kubeadmconfig

import corev1 "k8s.io/api/core/v1"

// The types below mirror kubeadm.k8s.io/v1beta4 as shipped in kubeadm
// v1.36.3 (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go). They are our own
// copies rather than imports because k8s.io/kubernetes is not a library
// module, and because a few fields need a shape that keeps what the user
// wrote (pointers where "absent" and "empty" differ, strings for durations
// so errors can name the field). Every json name must match kubeadm exactly:
// strict decoding rejects any key that is not listed here, and every field
// must be validated here and then mapped, rejected or warned about by the
// recipe's mapping (TestEveryFieldIsHandled).
//
// Core types (Taint, EnvVar, PullPolicy, HostPathType) come from k8s.io/api,
// exactly as kubeadm uses them.

// TypeMeta is read first from every document to pick the decoder.
type TypeMeta struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
}

// InitConfiguration holds the node-local settings of `kubeadm init`.
type InitConfiguration struct {
	TypeMeta
	BootstrapTokens  []BootstrapToken        `json:"bootstrapTokens,omitempty"`
	DryRun           bool                    `json:"dryRun,omitempty"`
	NodeRegistration NodeRegistrationOptions `json:"nodeRegistration,omitempty"`
	LocalAPIEndpoint APIEndpoint             `json:"localAPIEndpoint,omitempty"`
	CertificateKey   string                  `json:"certificateKey,omitempty"`
	SkipPhases       []string                `json:"skipPhases,omitempty"`
	Patches          *Patches                `json:"patches,omitempty"`
	Timeouts         *Timeouts               `json:"timeouts,omitempty"`
}

// BootstrapToken mirrors bootstraptoken/v1.BootstrapToken. Token is a plain
// string here (kubeadm parses it while decoding); TTL and Expires are kept
// as written and validated in mapping so errors carry the field path.
type BootstrapToken struct {
	Token       string   `json:"token"`
	Description string   `json:"description,omitempty"`
	TTL         *string  `json:"ttl,omitempty"`
	Expires     *string  `json:"expires,omitempty"`
	Usages      []string `json:"usages,omitempty"`
	Groups      []string `json:"groups,omitempty"`
}

// ClusterConfiguration holds the cluster-wide settings.
type ClusterConfiguration struct {
	TypeMeta
	Etcd                        Etcd                  `json:"etcd,omitempty"`
	Networking                  Networking            `json:"networking,omitempty"`
	KubernetesVersion           string                `json:"kubernetesVersion,omitempty"`
	ControlPlaneEndpoint        string                `json:"controlPlaneEndpoint,omitempty"`
	APIServer                   APIServer             `json:"apiServer,omitempty"`
	ControllerManager           ControlPlaneComponent `json:"controllerManager,omitempty"`
	Scheduler                   ControlPlaneComponent `json:"scheduler,omitempty"`
	DNS                         DNS                   `json:"dns,omitempty"`
	Proxy                       Proxy                 `json:"proxy,omitempty"`
	CertificatesDir             string                `json:"certificatesDir,omitempty"`
	ImageRepository             string                `json:"imageRepository,omitempty"`
	FeatureGates                map[string]bool       `json:"featureGates,omitempty"`
	ClusterName                 string                `json:"clusterName,omitempty"`
	EncryptionAlgorithm         string                `json:"encryptionAlgorithm,omitempty"`
	CertificateValidityPeriod   *string               `json:"certificateValidityPeriod,omitempty"`
	CACertificateValidityPeriod *string               `json:"caCertificateValidityPeriod,omitempty"`
}

// ControlPlaneComponent is the common part of apiServer, controllerManager
// and scheduler.
type ControlPlaneComponent struct {
	ExtraArgs    []Arg           `json:"extraArgs,omitempty"`
	ExtraVolumes []HostPathMount `json:"extraVolumes,omitempty"`
	ExtraEnvs    []corev1.EnvVar `json:"extraEnvs,omitempty"`
}

// APIServer adds the serving certificate SANs.
type APIServer struct {
	ControlPlaneComponent
	CertSANs []string `json:"certSANs,omitempty"`
}

// DNS is the CoreDNS addon.
type DNS struct {
	ImageMeta
	Disabled bool `json:"disabled,omitempty"`
}

// Proxy is the kube-proxy addon.
type Proxy struct {
	Disabled bool `json:"disabled,omitempty"`
}

// ImageMeta overrides the repository and tag of one image.
type ImageMeta struct {
	ImageRepository string `json:"imageRepository,omitempty"`
	ImageTag        string `json:"imageTag,omitempty"`
}

// APIEndpoint is where this node's API server listens. BindPort is a
// pointer so an explicit 0 can be told from "not given", and an int64
// (kubeadm: int32) so an out-of-range port gets a range error rather than
// a decoder overflow.
type APIEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	BindPort         *int64 `json:"bindPort,omitempty"`
}

// NodeRegistrationOptions says how the node registers itself. Taints is a
// pointer because kubeadm treats "absent" (default control-plane taint) and
// "[]" (no taint at all) differently.
type NodeRegistrationOptions struct {
	Name                  string            `json:"name,omitempty"`
	CRISocket             string            `json:"criSocket,omitempty"`
	Taints                *[]corev1.Taint   `json:"taints"`
	KubeletExtraArgs      []Arg             `json:"kubeletExtraArgs,omitempty"`
	IgnorePreflightErrors []string          `json:"ignorePreflightErrors,omitempty"`
	ImagePullPolicy       corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	ImagePullSerial       *bool             `json:"imagePullSerial,omitempty"`
}

// Networking holds the cluster's address ranges and DNS domain.
type Networking struct {
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	PodSubnet     string `json:"podSubnet,omitempty"`
	DNSDomain     string `json:"dnsDomain,omitempty"`
}

// Etcd is either local (stacked) or external.
type Etcd struct {
	Local    *LocalEtcd    `json:"local,omitempty"`
	External *ExternalEtcd `json:"external,omitempty"`
}

// LocalEtcd is the stacked etcd kubeadm runs as a static Pod.
type LocalEtcd struct {
	ImageMeta
	DataDir        string          `json:"dataDir"`
	ExtraArgs      []Arg           `json:"extraArgs,omitempty"`
	ExtraEnvs      []corev1.EnvVar `json:"extraEnvs,omitempty"`
	ServerCertSANs []string        `json:"serverCertSANs,omitempty"`
	PeerCertSANs   []string        `json:"peerCertSANs,omitempty"`
}

// ExternalEtcd is an etcd cluster run outside kubeadm.
type ExternalEtcd struct {
	Endpoints     []string `json:"endpoints"`
	HTTPEndpoints []string `json:"httpEndpoints,omitempty"`
	CAFile        string   `json:"caFile"`
	CertFile      string   `json:"certFile"`
	KeyFile       string   `json:"keyFile"`
}

// JoinConfiguration holds the settings of `kubeadm join`.
type JoinConfiguration struct {
	TypeMeta
	DryRun           bool                    `json:"dryRun,omitempty"`
	NodeRegistration NodeRegistrationOptions `json:"nodeRegistration,omitempty"`
	CACertPath       string                  `json:"caCertPath,omitempty"`
	Discovery        Discovery               `json:"discovery"`
	ControlPlane     *JoinControlPlane       `json:"controlPlane,omitempty"`
	SkipPhases       []string                `json:"skipPhases,omitempty"`
	Patches          *Patches                `json:"patches,omitempty"`
	Timeouts         *Timeouts               `json:"timeouts,omitempty"`
}

// JoinControlPlane makes a join a control-plane join.
type JoinControlPlane struct {
	LocalAPIEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
	CertificateKey   string      `json:"certificateKey,omitempty"`
}

// Discovery says how a joining node finds and trusts the cluster.
type Discovery struct {
	BootstrapToken    *BootstrapTokenDiscovery `json:"bootstrapToken,omitempty"`
	File              *FileDiscovery           `json:"file,omitempty"`
	TLSBootstrapToken string                   `json:"tlsBootstrapToken,omitempty"`
}

// BootstrapTokenDiscovery is token-based discovery.
type BootstrapTokenDiscovery struct {
	Token                    string   `json:"token"`
	APIServerEndpoint        string   `json:"apiServerEndpoint,omitempty"`
	CACertHashes             []string `json:"caCertHashes,omitempty"`
	UnsafeSkipCAVerification bool     `json:"unsafeSkipCAVerification,omitempty"`
}

// FileDiscovery is kubeconfig-file (or https URL) discovery.
type FileDiscovery struct {
	KubeConfigPath string `json:"kubeConfigPath"`
}

// HostPathMount is one extra hostPath volume of a static Pod.
type HostPathMount struct {
	Name      string              `json:"name"`
	HostPath  string              `json:"hostPath"`
	MountPath string              `json:"mountPath"`
	ReadOnly  bool                `json:"readOnly,omitempty"`
	PathType  corev1.HostPathType `json:"pathType,omitempty"`
}

// Patches points at kubeadm's patch directory.
type Patches struct {
	Directory string `json:"directory,omitempty"`
}

// ResetConfiguration holds the settings of `kubeadm reset`.
type ResetConfiguration struct {
	TypeMeta
	CleanupTmpDir         bool      `json:"cleanupTmpDir,omitempty"`
	CertificatesDir       string    `json:"certificatesDir,omitempty"`
	CRISocket             string    `json:"criSocket,omitempty"`
	DryRun                bool      `json:"dryRun,omitempty"`
	Force                 bool      `json:"force,omitempty"`
	IgnorePreflightErrors []string  `json:"ignorePreflightErrors,omitempty"`
	SkipPhases            []string  `json:"skipPhases,omitempty"`
	UnmountFlags          []string  `json:"unmountFlags,omitempty"`
	Timeouts              *Timeouts `json:"timeouts,omitempty"`
}

// Arg is one command-line flag (v1beta4 replaced v1beta3's map with this
// list so a flag may repeat).
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Timeouts are metav1.Duration values in kubeadm; kept as written here.
type Timeouts struct {
	ControlPlaneComponentHealthCheck *string `json:"controlPlaneComponentHealthCheck,omitempty"`
	KubeletHealthCheck               *string `json:"kubeletHealthCheck,omitempty"`
	KubernetesAPICall                *string `json:"kubernetesAPICall,omitempty"`
	EtcdAPICall                      *string `json:"etcdAPICall,omitempty"`
	TLSBootstrap                     *string `json:"tlsBootstrap,omitempty"`
	Discovery                        *string `json:"discovery,omitempty"`
	UpgradeManifests                 *string `json:"upgradeManifests,omitempty"`
}
