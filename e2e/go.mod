module github.com/kubelark/kubelark/e2e

go 1.26.8

require (
	golang.org/x/sys v0.42.0 // indirect
	k8s.io/api v0.36.3 // indirect
	k8s.io/apimachinery v0.36.3 // indirect
	k8s.io/client-go v0.36.3 // indirect
)
