module kubegate.local/informer

go 1.25

require (
	k8s.io/api v0.37.2
	k8s.io/client-go v0.37.2
)
